package io.hupd.steps;

import io.hupd.image.oci.ResolvedImage;
import io.hupd.device.Device;
import java.io.IOException;
import java.util.Map;

/**
 * Whether an image is meant for this device: its security version against the floor, its device type and its
 * architecture from the image config. Checked at preflight and again on the image a fetch resolves (the
 * os-release inside is checked once more before writing).
 */
final class ImageForThisDevice {
    private ImageForThisDevice() {}

    /** @return why the image is not for this device, or null when it is */
    static String mismatch(Device device, ResolvedImage image) throws IOException {
        String floor = SecurityFloor.problem(device.state(), image);
        if (floor != null) {
            return floor;
        }
        Map<String, String> labels = image.labels() == null ? Map.of() : image.labels();
        String type = labels.get("io.balena.device-type");
        if (type != null && !type.equals(device.deviceType())) {
            return "the image is for device type " + type + ", this device is " + device.deviceType();
        }
        if (image.architecture() != null && !image.architecture().equals(device.architecture())) {
            return "the image is for architecture " + image.architecture() + ", this device is "
                    + device.architecture();
        }
        return null;
    }
}
