package io.hupd.image;

import io.hupd.ports.ImageSource;
import io.hupd.ports.UserInputException;

/** Turns an image reference as the operator wrote it into the source that can read it. */
public final class ImageSources {
    private ImageSources() {}

    /** @throws UserInputException for a malformed reference or a kind of source hupd cannot read yet */
    public static ImageSource open(String reference) {
        ImageReference ref = ImageReference.parse(reference);
        if (ref.isOciLayout()) {
            return new OciLayoutSource(ref);
        }
        throw new UserInputException("registry sources are not supported yet: " + ref);
    }
}
