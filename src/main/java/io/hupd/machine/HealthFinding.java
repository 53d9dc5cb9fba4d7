package io.hupd.machine;

/**
 * The health verdict on the new OS (rollback-health, SPEC §5.2).
 *
 * @param problem why it is not healthy, null when it is
 */
public record HealthFinding(String problem) implements Finding {
    public static HealthFinding healthy() {
        return new HealthFinding(null);
    }

    public static HealthFinding unhealthy(String problem) {
        if (problem == null || problem.isBlank()) {
            throw new IllegalArgumentException("an unhealthy verdict needs its reason");
        }
        return new HealthFinding(problem);
    }

    public boolean isHealthy() {
        return problem == null;
    }
}
