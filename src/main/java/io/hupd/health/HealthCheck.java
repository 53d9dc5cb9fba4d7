package io.hupd.health;

/** One post-boot health check. Required checks decide the verdict; wanted checks only log (greenboot's split). */
public interface HealthCheck {
    enum Kind { REQUIRED, WANTED }

    record Result(boolean passed, String output) {
        public static Result pass(String output) {
            return new Result(true, output);
        }

        public static Result fail(String output) {
            return new Result(false, output);
        }
    }

    String name();

    Kind kind();

    /** May block; the runner bounds it with a time limit and counts a hung check as failed. */
    Result run() throws Exception;
}
