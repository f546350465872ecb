package dev.braid.conformance;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;

/**
 * The model rule, section "M: the model" of {@code SPEC.md} (M1): seeded random operation sequences from
 * both ends match the reference model of the lifecycle ({@link RandomizedRun}, {@link LifecycleModel}).
 */
interface ModelRules extends KitAccess {
  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RandomizedRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @DisplayName("M1 random operation sequences from both ends match the reference model of the lifecycle")
  default void M1_randomizedRunMatchesModel(long seed) throws Exception {
    new RandomizedRun(seed, fixture(), this::newPair).run();
  }
}
