package io.hupd.image.rootfs;

import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.Text;
import io.hupd.ports.UserInputException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads one layer's archive, entry by entry, into the {@link TarEntryRules}, and words every refusal as the user
 * sees it ("layer N entry 'PATH': why"). The reader is never let to run ahead of the rules by more than one
 * entry's declared data and a bounded amount of header.
 */
final class LayerArchive {
    /** Bytes the tar reader may consume for headers between two entries (PAX records, GNU long names). */
    private static final long HEADER_BUDGET = 1024 * 1024;
    private static final int BUFFER = 128 * 1024;

    private LayerArchive() {}

    static void read(int number, LayerFlattener.LayerOpener blob, MediaTypes.Compression compression,
            TarEntryRules rules, SurveyNotes notes) throws IOException {
        try (InputStream file = blob.open()) {
            InputStream raw = new BufferedInputStream(file, BUFFER);
            InputStream plain;
            try {
                plain = compression == MediaTypes.Compression.GZIP ? new GZIPInputStream(raw, BUFFER) : raw;
            } catch (IOException e) {
                throw new UserInputException("layer " + number + ": not a gzip stream: "
                        + Text.firstLine(e.getMessage()));
            }
            BudgetedStream budgeted = new BudgetedStream(plain);
            TarArchiveInputStream tar = new TarArchiveInputStream(budgeted, "UTF-8");
            long dataEnd = 0;
            String current = null;
            while (true) {
                budgeted.allow(Math.max(0, dataEnd - budgeted.position) + 512 + HEADER_BUDGET,
                        "tar headers larger than " + HEADER_BUDGET + " bytes");
                TarArchiveEntry entry;
                try {
                    entry = tar.getNextEntry();
                } catch (BudgetedStream.BudgetExceeded e) {
                    throw new UserInputException("layer " + number + (current == null ? "" : " after entry '"
                            + Text.quote(current) + "'") + ": " + e.getMessage());
                } catch (IOException | RuntimeException e) {
                    if (current != null && budgeted.atEnd && budgeted.position == dataEnd) {
                        // umoci 0.4.7 (Debian 12) ends layers right after the last file's data, without
                        // padding or end-of-archive blocks; Go's tar reader, and so Docker, accept that.
                        // The blob's digest was verified, so this is the producer's whole archive.
                        notes.notAsIs("the archive ends without its end-of-archive blocks");
                        break;
                    }
                    throw new UserInputException("layer " + number + (current == null ? "" : " after entry '"
                            + Text.quote(current) + "'") + ": corrupt archive: " + describe(e));
                }
                if (entry == null) {
                    break;
                }
                current = entry.getName();
                dataEnd = budgeted.position + Math.max(0, entry.getSize());
                try {
                    rules.apply(entry, tar, budgeted);
                } catch (EntryRefusal r) {
                    throw new UserInputException("layer " + number + " entry '" + Text.quote(entry.getName())
                            + "': " + r.getMessage());
                }
            }
        }
    }

    /** The user's error is one line, and some of the reader's exceptions carry no message at all. */
    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : Text.firstLine(m);
    }
}
