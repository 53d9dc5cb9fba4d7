package io.hupd.image.rootfs;

/**
 * Why one tar entry is refused, without the layer and entry it concerns: the rules that refuse do not know them,
 * and {@link LayerArchive} turns it into the "layer N entry 'PATH': why" the user sees.
 */
final class EntryRefusal extends RuntimeException {
    EntryRefusal(String why) {
        // caught and reworded at once: a stack trace would be filled in only to be dropped
        super(why, null, false, false);
    }
}
