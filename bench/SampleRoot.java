import io.hupd.adapters.sim.SampleOs;
import java.nio.file.Path;

/** Adds the simulated OS's own files (kernel stand-in, os-release, services) to a benchmark root: DIR VERSION. */
public class SampleRoot {
    public static void main(String[] args) throws Exception {
        SampleOs.writeRootfs(Path.of(args[0]), args[1], "14.1.0", SampleOs.Flaw.NONE);
    }
}
