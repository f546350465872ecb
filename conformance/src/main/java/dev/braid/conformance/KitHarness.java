package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.MuxedStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the kit checks around every test, shared by {@link ConformanceSuite} and {@link FaultSuite}: an
 * uncaught-exception watchdog on every thread (one fails the test that caused it, rule W1), and after the
 * test, leak checks (rule W2): every connection the test made has ended with no stream left in
 * {@link Connection#streams()}, and every thread the transport started has stopped.
 *
 * <p>Its helpers ({@link #pair()}, {@link #fixture()}, {@link #window()} and the others) are public and final: the
 * rule groups {@link ConformanceSuite} is assembled from are interfaces, and reach the running test through them.
 * The static helpers that more than one rule group uses are here too, written once.
 */
@ExtendWith({RuleTimeout.class, KitReporting.class})
public abstract class KitHarness implements KitAccess {
  /**
   * How long the leak check waits for the transport's threads to stop after a test: 15 s
   * ({@code -Dbraid.kit.threadGraceSeconds=N}), and 1 s once a leak has been reported in this JVM, so that one
   * missing executor shutdown fails every later rule in seconds, not in 15 s each.
   */
  private static volatile Duration threadGrace = Duration.ofSeconds(Long.getLong("braid.kit.threadGraceSeconds", 15));
  private static volatile boolean leakReported;

  private static final Set<String> JVM_THREAD_PREFIXES = Set.of("braid-events-", "junit-", "process reaper",
      "ForkJoinPool.commonPool", "Common-Cleaner", "Attach Listener", "JFR ", "Signal Dispatcher",
      "surefire-forkedjvm", "Keep-Alive", "HttpClient-", "Reference Handler", "Finalizer", "Notification Thread",
      "Timer-", "globalEventExecutor", "ObjectCleanerThread");

  private TransportFixture fixture;
  protected final List<TransportFixture> extraFixtures = new ArrayList<>();
  private ConnectionPair pair;
  protected final List<ConnectionPair> pairs = new ArrayList<>();
  private Set<Thread> threadsBefore;
  private final List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<>());
  private Thread.UncaughtExceptionHandler previousHandler;
  /** Worker threads for a test; stopped after it. */
  protected ExecutorService pool;

  /** A fresh fixture for one test; the kit closes it after the test. */
  protected abstract TransportFixture createFixture() throws Exception;

  // ------------------------------------------------------------------ harness

  @BeforeEach
  final void kitSetUp(TestInfo info) throws Exception {
    assertNoRuleOverridden();
    String method = info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("");
    String rule = method.contains("_") ? method.substring(0, method.indexOf('_')) : method;
    String known = knownFailures().get(rule);
    Assumptions.assumeTrue(known == null, () -> "KNOWN FAILURE of transport under test, declared by its test class: "
        + known);
    threadsBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
    previousHandler = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
      uncaught.add(new AssertionError("uncaught exception on thread " + t.getName() + ": " + e, e));
      if (previousHandler != null) {
        previousHandler.uncaughtException(t, e);
      }
    });
    fixture = createFixture();
    pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "braid-kit-worker");
      t.setDaemon(true);
      return t;
    });
  }

  @AfterEach
  final void kitTearDown() throws Exception {
    if (fixture == null) {
      return; // skipped before set-up (a declared known failure)
    }
    Throwable failure = null;
    try {
      for (ConnectionPair p : pairs) {
        Kit.closeAndWait(p.dialer());
        Kit.closeAndWait(p.listener());
      }
      for (ConnectionPair p : pairs) {
        for (Connection c : List.of(p.dialer(), p.listener())) {
          List<MuxedStream> left = c.streams();
          if (!left.isEmpty()) {
            throw new AssertionError("leak: " + c + " ended but still lists streams " + left);
          }
        }
      }
    } catch (Throwable t) {
      failure = t;
    } finally {
      pool.shutdownNow();
      try {
        fixture.close();
        for (TransportFixture f : extraFixtures) {
          f.close();
        }
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        } else {
          failure.addSuppressed(t);
        }
      }
      Thread.setDefaultUncaughtExceptionHandler(previousHandler);
    }
    if (failure == null) {
      try {
        checkThreadsStopped();
      } catch (Throwable t) {
        failure = t;
      }
    }
    if (!uncaught.isEmpty()) {
      AssertionError e = new AssertionError(uncaught.size() + " uncaught exception(s) escaped to threads during the test",
          uncaught.get(0));
      if (failure != null) {
        e.addSuppressed(failure);
      }
      throw e;
    }
    if (failure instanceof Exception) {
      throw (Exception) failure;
    }
    if (failure instanceof Error) {
      throw (Error) failure;
    }
  }

  /**
   * The rules of {@link ConformanceSuite} are default methods of its rule groups, interfaces of this package, and a
   * test class could override one and so drop the rule from the run without a word. A rule this transport fails is
   * declared in {@link #knownFailures()} and reported; a test class that overrides one fails every test instead.
   */
  private void assertNoRuleOverridden() throws NoSuchMethodException {
    Deque<Class<?>> types = new ArrayDeque<>();
    for (Class<?> c = getClass(); c != null; c = c.getSuperclass()) {
      types.addAll(List.of(c.getInterfaces()));
    }
    Set<Class<?>> seen = new HashSet<>();
    while (!types.isEmpty()) {
      Class<?> group = types.removeFirst();
      if (!seen.add(group)) {
        continue;
      }
      types.addAll(List.of(group.getInterfaces()));
      if (!group.getPackageName().equals(KitHarness.class.getPackageName())) {
        continue;
      }
      for (Method rule : group.getDeclaredMethods()) {
        if (!rule.isDefault()) {
          continue;
        }
        Method run = getClass().getMethod(rule.getName(), rule.getParameterTypes());
        if (!run.equals(rule)) {
          throw new AssertionError(run.getDeclaringClass().getName() + " overrides the kit's rule " + rule.getName()
              + ": a test class cannot replace or drop a rule; declare a rule the transport fails in knownFailures(), "
              + "with the reason");
        }
      }
    }
  }

  private void checkThreadsStopped() {
    Set<String> shared = new HashSet<>(fixture.sharedThreadPrefixes());
    Duration grace = leakReported ? Duration.ofSeconds(1) : threadGrace;
    long deadline = System.nanoTime() + grace.toNanos();
    List<String> leaked;
    do {
      leaked = new ArrayList<>();
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (!t.isAlive() || threadsBefore.contains(t) || t.getName().startsWith("braid-kit-")) {
          continue;
        }
        String name = t.getName();
        if (JVM_THREAD_PREFIXES.stream().anyMatch(name::startsWith) || shared.stream().anyMatch(name::startsWith)) {
          continue;
        }
        leaked.add(name);
      }
      if (leaked.isEmpty()) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    } while (System.nanoTime() < deadline);
    boolean first = !leakReported;
    leakReported = true;
    throw new AssertionError("leak: threads started during the test still run " + grace.toSeconds()
        + " s after the fixture closed: " + leaked + ". Check that the transport's close() shuts down every executor "
        + "and event loop it started" + (first ? "; later rules in this run wait only 1 s for threads to stop"
        : " (a leak was reported earlier in this run: waited 1 s)"));
  }

  /**
   * Rules this transport is known to fail today, by rule id, each with the reason: they are reported as
   * skipped with "KNOWN FAILURE: reason", never run as a pass. For bugs being worked on; an empty map is the
   * goal (and the default).
   */
  protected java.util.Map<String, String> knownFailures() {
    return java.util.Map.of();
  }

  /** The connected pair of this test, made on first use. */
  @Override
  public final ConnectionPair pair() throws Exception {
    if (pair == null) {
      pair = newPair();
    }
    return pair;
  }

  /** Another connected pair on the same fixture. */
  @Override
  public final ConnectionPair newPair() throws Exception {
    ConnectionPair p = fixture.connect();
    pairs.add(p);
    return p;
  }

  /**
   * A connected pair on {@code other}, a fixture the test made from its own (with other options, or another
   * route): the kit closes the pair and the fixture after the test.
   */
  @Override
  public final ConnectionPair pairOn(TransportFixture other) throws Exception {
    extraFixtures.add(other);
    ConnectionPair p = other.connect();
    pairs.add(p);
    return p;
  }

  /** The fixture of this test. */
  @Override
  public final TransportFixture fixture() {
    return fixture;
  }

  /** Worker threads for this test ({@link #pool}); stopped after it. */
  @Override
  public final ExecutorService pool() {
    return pool;
  }

  /**
   * The options of the rules that kill a connection: a short keep-alive and idle timeout, so that the survivor
   * of a silent kill learns of it within seconds.
   */
  protected static final dev.braid.TransportOptions KILL_OPTIONS = dev.braid.TransportOptions.builder()
      .keepAliveInterval(Duration.ofMillis(500)).idleTimeout(Duration.ofSeconds(2)).build();
  private TransportFixture killFixture;

  /**
   * A connected pair whose connections {@link #killSilently(Connection)} can kill without a word
   * ({@link TransportFixture#killable()}), with {@link #KILL_OPTIONS}; skips the calling rule, with the reason,
   * when the fixture cannot do that.
   */
  @Override
  public final ConnectionPair killablePair() throws Exception {
    if (killFixture == null) {
      TransportFixture fast = fixture.withOptions(KILL_OPTIONS);
      Assumptions.assumeTrue(fast != null, () -> "transport '" + fixture.transportId() + "': the fixture cannot be "
          + "rebuilt with a short idle timeout (override TransportFixture.withOptions), so a silent kill would not be "
          + "noticed within the kit's bounds");
      TransportFixture k = fast.killable();
      Assumptions.assumeTrue(k != null, () -> "transport '" + fixture.transportId() + "': the fixture cannot kill a "
          + "connection without a word (TransportFixture.killable() returns null; a TCP or UDP transport gets it from "
          + "TransportFixture.of(provider, options, FaultProxy.Kind))");
      extraFixtures.add(k);
      killFixture = k;
    }
    ConnectionPair p = killFixture.connect();
    pairs.add(p);
    return p;
  }

  /** Kills {@code victim}'s end without a word ({@link TransportFixture#kill(Connection)}). */
  @Override
  public final void killSilently(Connection victim) {
    killFixture.kill(victim);
  }

  /**
   * After a silent kill, the survivor learns of it only through its own timers: its connection ends with
   * {@link dev.braid.ConnectionTimedOutException}, within the kit's bound.
   */
  @Override
  public final void assertSurvivorTimedOut(Connection survivor) {
    Throwable t = Kit.await(survivor.closeFuture().handle((v, e) -> e), "the survivor " + survivor + " of a silent "
        + "kill ends (its idle timeout is " + KILL_OPTIONS.idleTimeout().toMillis() + " ms)");
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    if (!(cause instanceof dev.braid.ConnectionTimedOutException)) {
      throw new AssertionError("the survivor of a silent kill must learn of it only through its own timers and end "
          + "with ConnectionTimedOutException, but it ended with " + cause + ". Either the kill was not silent (a FIN, "
          + "go-away, CONNECTION_CLOSE, SCTP ABORT or signaling message reached it: check the fixture's kill()), or the "
          + "transport reports its idle timeout or unanswered keep-alives as another exception", cause);
    }
  }

  /** Skips the calling rule, with the reason, unless the transport declares {@code c}. */
  @Override
  public final void requires(Capability c) {
    Assumptions.assumeTrue(fixture.capabilities().contains(c), () -> "transport '" + fixture.transportId()
        + "' does not declare capability " + c + ": " + c.missingReason());
  }

  /** Whether the transport declares {@code c}. */
  @Override
  public final boolean has(Capability c) {
    return fixture.capabilities().contains(c);
  }

  /** The receive window of this test's pair, in bytes. */
  @Override
  public final int window() throws Exception {
    return pair().dialer().options().receiveWindow();
  }

  // ------------------------------------------------------------------ helpers of more than one rule group

  /**
   * How many bytes a writer whose peer reads nothing may have accepted before a write must stay pending (rule
   * B1): 16 MiB or 8 receive windows, whichever is more.
   */
  @Override
  public final long backpressureBound() throws Exception {
    return Math.max(16L << 20, 8L * window());
  }

  /**
   * Writes until a write is held by flow control (the peer is not reading) and returns that write
   * ({@link Kit#holdWriter(MuxedStream, long)} with {@link #backpressureBound()}).
   */
  @Override
  public final CompletableFuture<Void> holdWriter(MuxedStream s) throws Exception {
    return Kit.holdWriter(s, backpressureBound());
  }

  /** Waits for {@code f} to fail with {@code type} and returns the failure. */
  static Throwable assertFailsWith(CompletableFuture<?> f, Class<? extends Throwable> type, String what) {
    Throwable t = Kit.awaitFailure(f, what);
    assertInstanceOf(type, t, what + " fails with " + type.getSimpleName());
    return t;
  }

  /** The bytes {@code s} has buffered for reading, or -1 if its blocking view cannot tell. */
  static int available(MuxedStream s) {
    try {
      return s.inputStream().available();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * {@code connect} as a supplier for the kit's runs ({@link RaceRun}): a pair the fixture cannot connect fails the
   * rule, with the cause.
   */
  static Supplier<ConnectionPair> orFail(RandomizedRun.PairSource connect) {
    return () -> {
      try {
        return connect.get();
      } catch (Exception e) {
        throw new AssertionError("the fixture could not connect a pair: " + e, e);
      }
    };
  }
}
