package io.hupd.machine;

import io.hupd.domain.Slot;
import java.util.List;

/**
 * What the device itself says when hupd starts again, read before anything runs: the database only ever says
 * where an update was; these say which OS boots (SPEC §6).
 *
 * @param bootedSlot the root that is running
 * @param settings the boot settings, null when they cannot be read ({@code settingsProblem} says why)
 * @param breadcrumbs a rollback guard is armed in the state partition
 * @param leftovers updates that left a boot backup or a work folder in the data partition, newest first
 */
public record GroundTruth(String bootedSlot, Settings settings, String settingsProblem, boolean breadcrumbs,
        List<String> leftovers) {

    /**
     * @param trialArmed upgrade_available: the next boots are a trial of the root the settings name
     * @param rootPart the partition the settings name
     * @param namedSlot the slot of that partition, null when it is no slot's
     */
    public record Settings(boolean trialArmed, int rootPart, String namedSlot, int bootcount) {}

    public GroundTruth {
        leftovers = List.copyOf(leftovers);
    }

    /** Whether the switch to {@code spareSlot} is in the boot settings. */
    boolean switchedTo(String spareSlot) {
        return settings.trialArmed() && spareSlot != null && spareSlot.equals(settings.namedSlot());
    }

    /** The other slot of a stored name; a name that is no slot (nothing recorded) counts as B, as it always has. */
    static String otherSlot(String slot) {
        return Slot.named(slot).orElse(Slot.B).other().name();
    }
}
