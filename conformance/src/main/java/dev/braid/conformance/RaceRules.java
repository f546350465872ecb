package dev.braid.conformance;

import static dev.braid.conformance.KitHarness.orFail;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;

/**
 * The race rules, section "R: races" of {@code SPEC.md} (R1-R3, stochastic and seeded): operations racing on
 * one stream from both ends, a reset racing a queued FIN, and a connection closed or aborted in the middle of
 * racing stream operations ({@link RaceRun}).
 */
interface RaceRules extends KitAccess {
  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RaceRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("R1 threads on both ends race write, closeWrite, closeRead, close and reset on one stream: both ends "
      + "end, nothing is left pending, bytes arrive whole and in order")
  default void R1_operationsRaceOnOneStream(long seed) throws Exception {
    new RaceRun("R1", seed, orFail(this::pair), pool(), fixture().capabilities(), window(),
        getClass().getSimpleName()).operations();
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RaceRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("R2 a reset racing a FIN queued behind a full window reaches the peer: both ends end RESET with the code")
  default void R2_resetRacesQueuedFin(long seed) throws Exception {
    new RaceRun("R2", seed, orFail(this::pair), pool(), fixture().capabilities(), window(),
        getClass().getSimpleName()).resetAgainstQueuedFin();
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RaceRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("R3 a connection closed or aborted in the middle of racing stream operations ends everything, "
      + "on both ends, within a bound")
  default void R3_connectionClosedMidRace(long seed) throws Exception {
    new RaceRun("R3", seed, orFail(this::newPair), pool(), fixture().capabilities(), window(),
        getClass().getSimpleName()).connectionCloseMidRace();
  }
}
