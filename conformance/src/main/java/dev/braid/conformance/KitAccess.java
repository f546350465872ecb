package dev.braid.conformance;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.MuxedStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;

/**
 * What the kit's rule groups ({@link LifecycleRules}, {@link OpeningRules} and the others {@link ConformanceSuite}
 * is assembled from) reach the running test through: the harness of the test, implemented by {@link KitHarness}
 * with final methods (see there for each), which also holds the static helpers that more than one group uses. A
 * helper that only one group uses stays in that group.
 */
interface KitAccess {
  /** See {@link KitHarness#pair()}. */
  ConnectionPair pair() throws Exception;

  /** See {@link KitHarness#newPair()}. */
  ConnectionPair newPair() throws Exception;

  /** See {@link KitHarness#pairOn(TransportFixture)}. */
  ConnectionPair pairOn(TransportFixture other) throws Exception;

  /** See {@link KitHarness#killablePair()}. */
  ConnectionPair killablePair() throws Exception;

  /** See {@link KitHarness#killSilently(Connection)}. */
  void killSilently(Connection victim);

  /** See {@link KitHarness#assertSurvivorTimedOut(Connection)}. */
  void assertSurvivorTimedOut(Connection survivor);

  /** See {@link KitHarness#fixture()}. */
  TransportFixture fixture();

  /** See {@link KitHarness#pool()}. */
  ExecutorService pool();

  /** See {@link KitHarness#requires(Capability)}. */
  void requires(Capability c);

  /** See {@link KitHarness#has(Capability)}. */
  boolean has(Capability c);

  /** See {@link KitHarness#window()}. */
  int window() throws Exception;

  /** See {@link KitHarness#backpressureBound()}. */
  long backpressureBound() throws Exception;

  /** See {@link KitHarness#holdWriter(MuxedStream)}. */
  CompletableFuture<Void> holdWriter(MuxedStream s) throws Exception;
}
