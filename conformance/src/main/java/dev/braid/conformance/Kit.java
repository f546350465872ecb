package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Small, bounded helpers the kit's rules are written with. Every wait has a limit; a limit reached is a
 * failure that says what was awaited, never a hang.
 */
public final class Kit {
  private static volatile Duration wait = Duration.ofSeconds(Long.getLong("braid.kit.waitSeconds", 30));

  private Kit() {}

  /**
   * How long any single expected event may take before the rule fails (default 30 s, or
   * {@code -Dbraid.kit.waitSeconds=N}).
   */
  public static Duration waitLimit() {
    return wait;
  }

  /** Changes {@link #waitLimit()}; the kit's self-tests shorten it, since they expect failures. */
  public static void setWaitLimit(Duration limit) {
    wait = limit;
  }

  /**
   * The system property that replaces the replay command a seeded rule prints on failure: a template with
   * {@code {class}}, {@code {rule}} and {@code {seed}}. A runner that is not a Maven build sets its own (Braid's
   * command line: {@code bin/braid conformance --transport ID --rule {rule} --seed {seed}}).
   */
  public static final String REPLAY_PROPERTY = "braid.kit.replay";

  /**
   * The command that replays the choices of one seeded rule ({@code M1}, {@code H8}, {@code R1}-{@code R3}): by default
   * {@code mvn test -Dtest='CLASS#RULE*' -Dbraid.seed=SEED}, or the template in {@value #REPLAY_PROPERTY}. Failure
   * messages print it on a line of its own that starts with {@code replay}, after the seed.
   *
   * @param testClass the simple name of the test class that ran the rule
   */
  public static String replayCommand(String testClass, String rule, long seed) {
    String template = System.getProperty(REPLAY_PROPERTY);
    if (template == null || template.isBlank()) {
      template = "mvn test -Dtest='{class}#{rule}*' -Dbraid.seed={seed}";
    }
    return template.replace("{class}", testClass).replace("{rule}", rule).replace("{seed}", Long.toString(seed));
  }

  /** A stream as seen from both ends. */
  public record StreamPair(MuxedStream local, MuxedStream remote) {}

  /** Opens a stream from {@code side}'s end and accepts it on the other end. */
  public static StreamPair open(ConnectionPair pair, Side side) {
    return open(pair, side, null);
  }

  /** Opens a stream with a listener attached from the start, and accepts it on the other end. */
  public static StreamPair open(ConnectionPair pair, Side side, StreamStateListener listener) {
    CompletableFuture<MuxedStream> accepted = pair.acceptor(side).acceptStream();
    MuxedStream local = await(pair.opener(side).openStream(listener), "openStream from the " + side);
    MuxedStream remote = await(accepted, "acceptStream on the peer of the " + side);
    return new StreamPair(local, remote);
  }

  /** Waits for {@code f}, bounded by {@link #waitLimit()}; a failure or time-out fails the rule naming {@code what}. */
  public static <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("timed out after " + wait.toSeconds() + " s waiting for: " + what);
    } catch (ExecutionException e) {
      throw new AssertionError(what + " failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for: " + what);
    }
  }

  /**
   * Runs a blocking call (the blocking views' {@code read}, {@code readAllBytes}, {@code write}) on {@code pool}
   * and waits for it, bounded by {@link #waitLimit()}: a call that never returns fails the rule naming
   * {@code what} instead of hanging it. Exceptions the call throws are rethrown as they are.
   */
  public static <T> T blocking(java.util.concurrent.ExecutorService pool, java.util.concurrent.Callable<T> call,
      String what) throws Exception {
    java.util.concurrent.Future<T> f = pool.submit(call);
    try {
      return f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new AssertionError("timed out after " + wait.toSeconds() + " s in a blocking call: " + what);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof Exception) {
        throw (Exception) c;
      }
      if (c instanceof Error) {
        throw (Error) c;
      }
      throw new AssertionError(what + " failed: " + c, c);
    }
  }

  /** Waits for {@code f} to fail and returns the cause; completing normally or timing out fails the rule. */
  public static Throwable awaitFailure(CompletableFuture<?> f, String what) {
    try {
      Object v = f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError(what + ": expected a failure, but it completed with " + v);
    } catch (TimeoutException e) {
      throw new AssertionError("timed out after " + wait.toSeconds() + " s waiting for " + what + " to fail");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for: " + what);
    }
  }

  /** Polls {@code condition} until it holds, bounded by {@link #waitLimit()}. */
  public static void eventually(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + wait.toNanos();
    long sleep = 1;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + wait.toSeconds() + " s waiting until " + what);
      }
      try {
        Thread.sleep(sleep);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting until " + what);
      }
      sleep = Math.min(sleep * 2, 20);
    }
  }

  /** Waits until {@code s} is in a state matching {@code p}. */
  public static StreamState awaitState(MuxedStream s, Predicate<StreamState> p, String what) {
    eventually(() -> p.test(s.state()), s + " is " + what + " (it is " + s.state() + ")");
    return s.state();
  }

  /** Waits until {@code s} is exactly in {@code expected}. */
  public static void awaitState(MuxedStream s, StreamState expected) {
    awaitState(s, st -> st == expected, expected.name());
  }

  /** Writes all of {@code data} and waits for the transport to accept it. */
  public static void writeAll(MuxedStream s, byte[] data) {
    await(s.write(ByteBuffer.wrap(data)), "writing " + data.length + " bytes on " + s);
  }

  /** Reads until end-of-stream, at most {@code limit} bytes (more is a failure). */
  public static byte[] readToEnd(MuxedStream s, int limit) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    while (true) {
      buf.clear();
      int n = await(s.read(buf), "reading " + s + " (after " + out.size() + " bytes)");
      if (n < 0) {
        return out.toByteArray();
      }
      assertTrue(n > 0, "read returned 0 bytes; a read completes with at least one byte or -1");
      out.write(buf.array(), 0, n);
      if (out.size() > limit) {
        fail("read more than the " + limit + " bytes that were sent on " + s);
      }
    }
  }

  /**
   * Queues 64 KiB writes on {@code s}, without waiting for them, until more than {@code bound} bytes are queued
   * while the peer reads nothing, and returns the last one: flow control must hold it (more than the bound
   * would have to be buffered for it to complete). Fails the rule if the first write is never accepted, or if
   * every write completed at once.
   */
  public static CompletableFuture<Void> holdWriter(MuxedStream s, long bound) {
    // No sleeping and guessing: writes are issued, without waiting for them, until more than the bound is queued.
    // A transport that respects backpressure (rule B1) can accept at most the bound while the peer reads nothing,
    // so the last write stays pending until the peer reads, the stream is reset or the connection ends.
    byte[] chunk = bytes(64 * 1024, 42);
    CompletableFuture<Void> first = null;
    CompletableFuture<Void> last = null;
    for (long issued = 0; issued <= bound + chunk.length; issued += chunk.length) {
      last = s.write(ByteBuffer.wrap(chunk));
      if (first == null) {
        first = last;
      }
      if (last.isCompletedExceptionally()) {
        await(last, "a write on " + s + " while the peer reads nothing");
      }
    }
    await(first, "the first write on " + s + " (the transport accepts nothing while the peer reads nothing)");
    if (last.isDone()) {
      throw new AssertionError("the writer was never held back: more than " + bound + " bytes were accepted at once "
          + "while the peer read nothing (rule B1: writes wait for the peer's flow-control credit)");
    }
    return last;
  }

  /** Reads until end-of-stream without blocking a thread; more than {@code limit} bytes fails the future. */
  public static CompletableFuture<byte[]> readAllAsync(MuxedStream s, int limit) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    readMore(s, limit, out, ByteBuffer.allocate(8192), result);
    return result;
  }

  private static void readMore(MuxedStream s, int limit, ByteArrayOutputStream out, ByteBuffer buf,
      CompletableFuture<byte[]> result) {
    buf.clear();
    s.read(buf).whenComplete((n, t) -> {
      if (t != null) {
        result.completeExceptionally(t);
      } else if (n < 0) {
        result.complete(out.toByteArray());
      } else {
        out.write(buf.array(), 0, n);
        if (out.size() > limit) {
          result.completeExceptionally(new AssertionError("more than " + limit + " bytes arrived on " + s));
        } else {
          readMore(s, limit, out, buf, result);
        }
      }
    });
  }

  /** Reads exactly {@code n} bytes. */
  public static byte[] readExactly(MuxedStream s, int n) {
    byte[] out = new byte[n];
    ByteBuffer buf = ByteBuffer.wrap(out);
    while (buf.hasRemaining()) {
      int r = await(s.read(buf), "reading " + n + " bytes from " + s + " (got " + buf.position() + ")");
      if (r < 0) {
        fail("end-of-stream after " + buf.position() + " of " + n + " expected bytes on " + s);
      }
    }
    return out;
  }

  /** Reads until end-of-stream and returns the SHA-256 of what arrived and its length. */
  public static Digest readDigest(MuxedStream s) {
    MessageDigest md = sha256();
    ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
    long total = 0;
    while (true) {
      buf.clear();
      int n = await(s.read(buf), "reading " + s + " (after " + total + " bytes)");
      if (n < 0) {
        return new Digest(md.digest(), total);
      }
      md.update(buf.array(), 0, n);
      total += n;
    }
  }

  /** Writes {@code total} seeded pseudo-random bytes in chunks, returning their digest; does not close. */
  public static Digest writeRandom(MuxedStream s, long total, long seed) {
    MessageDigest md = sha256();
    Random r = new Random(seed);
    byte[] chunk = new byte[256 * 1024];
    long left = total;
    while (left > 0) {
      int n = (int) Math.min(chunk.length, left);
      byte[] part = new byte[n];
      r.nextBytes(part);
      md.update(part);
      writeAll(s, part);
      left -= n;
    }
    return new Digest(md.digest(), total);
  }

  /** A SHA-256 digest and the byte count it covers. */
  public record Digest(byte[] sha256, long length) {
    /** Fails unless both the length and the digest match. */
    public void assertSame(Digest other, String what) {
      assertEquals(length, other.length, what + ": byte count");
      assertTrue(MessageDigest.isEqual(sha256, other.sha256), what + ": SHA-256 differs (bytes corrupted, lost or reordered)");
    }
  }

  /** Seeded pseudo-random bytes. */
  public static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Records every transition a listener sees, and whether two callbacks for one stream ever ran at once.
   * Thread-safe.
   */
  public static final class Recorder implements StreamStateListener {
    private final List<StreamState[]> transitions = new ArrayList<>(); // guarded by this
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean overlapped;

    @Override
    public void onStateChange(MuxedStream stream, StreamState from, StreamState to) {
      if (active.incrementAndGet() > 1) {
        overlapped = true;
      }
      try {
        Thread.yield(); // widen the window in which an overlapping callback would show
        synchronized (this) {
          transitions.add(new StreamState[] {from, to});
        }
      } finally {
        active.decrementAndGet();
      }
    }

    /** The transitions seen so far, in order. */
    public synchronized List<StreamState[]> transitions() {
      return new ArrayList<>(transitions);
    }

    /** Whether two callbacks overlapped in time. */
    public boolean overlapped() {
      return overlapped;
    }

    /** The transitions as text, e.g. {@code OPEN->READ_CLOSED, READ_CLOSED->CLOSED}. */
    public synchronized String describe() {
      StringBuilder sb = new StringBuilder();
      for (StreamState[] t : transitions) {
        if (sb.length() > 0) {
          sb.append(", ");
        }
        sb.append(t[0]).append("->").append(t[1]);
      }
      return sb.toString();
    }

    /**
     * Fails unless the transitions form one forward chain starting at {@code first} and ending at
     * {@code last}, each seen once, none overlapping.
     */
    public void assertChain(StreamState first, StreamState last, String what) {
      List<StreamState[]> ts = transitions();
      assertTrue(!overlapped, what + ": two listener callbacks for one stream ran at the same time");
      assertTrue(!ts.isEmpty(), what + ": the listener saw no transition");
      StreamState at = first;
      for (StreamState[] t : ts) {
        assertEquals(at, t[0], what + ": transitions are not one chain, each seen once: " + describe());
        assertTrue(t[0].canTransitionTo(t[1]), what + ": illegal transition " + t[0] + "->" + t[1] + " in " + describe());
        at = t[1];
      }
      assertEquals(last, at, what + ": the last transition seen: " + describe());
    }
  }

  /** Closes a connection and waits until it has ended. */
  public static void closeAndWait(Connection c) {
    c.close();
    try {
      c.closeFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // ended by a failure: still ended
    } catch (TimeoutException e) {
      throw new AssertionError("connection " + c + " did not end within " + wait.toSeconds() + " s of close()");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
