package dev.braid.conformance;

import dev.braid.Capability;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.WriteClosedException;
import dev.braid.conformance.Kit.Recorder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The seeded randomized run (rule M1): random sequences of open, write, read, closeWrite, closeRead,
 * close, reset and connection close from both ends, each checked against {@link LifecycleModel}: every
 * state each end reaches and every byte it reads. A failure prints the seed and the command that replays
 * it. Set {@code -Dbraid.seed=N} to replay one seed, {@code -Dbraid.randomized.episodes=N} for longer runs.
 */
public final class RandomizedRun {
  /** Operations executed by every run in this JVM, for reports. */
  public static final AtomicLong OPERATIONS = new AtomicLong();

  private static final int EPISODES = Integer.getInteger("braid.randomized.episodes", 6);
  private static final int OPS_PER_EPISODE = Integer.getInteger("braid.randomized.ops", 60);
  private static final int MAX_STREAMS = 6;

  /** A source of connected pairs. */
  @FunctionalInterface
  public interface PairSource {
    /** A fresh connected pair. */
    ConnectionPair get() throws Exception;
  }

  private final long seed;
  private final TransportFixture fixture;
  private final PairSource pairs;
  private final Random random;
  private final List<String> log = new ArrayList<>();
  private final boolean resetCodes;
  private int window;

  /**
   * @param seed the seed: the same seed drives the same operations
   * @param fixture the fixture under test (for capabilities)
   * @param pairs where connections come from
   */
  public RandomizedRun(long seed, TransportFixture fixture, PairSource pairs) {
    this.seed = seed;
    this.fixture = fixture;
    this.pairs = pairs;
    this.random = new Random(seed);
    this.resetCodes = fixture.capabilities().contains(Capability.RESET_CODES);
  }

  /** The seeds of this run: {@code braid.seed} if set, otherwise two fresh ones. */
  public static Stream<Long> seeds() {
    String fixed = System.getProperty("braid.seed");
    if (fixed != null && !fixed.isBlank()) {
      return Stream.of(Long.parseLong(fixed.trim()));
    }
    Random r = new Random();
    return LongStream.generate(r::nextLong).limit(2).boxed();
  }

  private final class Tracked {
    final LifecycleModel model;
    final MuxedStream opener;
    final MuxedStream acceptor;
    final Recorder openerEvents;
    final Recorder acceptorEvents;
    final StreamState acceptorStart;
    final int index;

    Tracked(int index, LifecycleModel model, MuxedStream opener, MuxedStream acceptor, Recorder oe, Recorder ae,
        StreamState acceptorStart) {
      this.index = index;
      this.model = model;
      this.opener = opener;
      this.acceptor = acceptor;
      this.openerEvents = oe;
      this.acceptorEvents = ae;
      this.acceptorStart = acceptorStart;
    }

    MuxedStream stream(boolean openerEnd) {
      return openerEnd ? opener : acceptor;
    }

    LifecycleModel.End end(boolean openerEnd) {
      return openerEnd ? model.opener() : model.acceptor();
    }
  }

  /** Runs every episode; throws an AssertionError naming the seed, the replay command and the operation log. */
  public void run() throws Exception {
    try {
      for (int e = 0; e < EPISODES; e++) {
        episode(e);
      }
    } catch (AssertionError | RuntimeException failure) {
      StringBuilder sb = new StringBuilder();
      sb.append("randomized run failed with seed ").append(seed).append(": ").append(failure.getMessage())
          .append("\nreplay: ").append(Kit.replayCommand(testClassName(), "M1", seed))
          .append("\nlast operations:");
      for (String line : log.subList(Math.max(0, log.size() - 80), log.size())) {
        sb.append("\n  ").append(line);
      }
      throw new AssertionError(sb.toString(), failure);
    }
    System.getLogger(RandomizedRun.class.getName()).log(System.Logger.Level.INFO,
        "randomized run seed {0}: {1} operations checked against the model", seed, log.size());
  }

  private String testClassName() {
    for (StackTraceElement el : new Throwable().getStackTrace()) {
      if (el.getClassName().endsWith("ConformanceTest")) {
        return el.getClassName().substring(el.getClassName().lastIndexOf('.') + 1);
      }
    }
    return "*ConformanceTest";
  }

  private void episode(int e) throws Exception {
    ConnectionPair pair = pairs.get();
    window = pair.dialer().options().receiveWindow();
    List<Tracked> streams = new ArrayList<>();
    log("episode " + e + " on " + pair.dialer());
    for (int i = 0; i < 2; i++) {
      streams.add(open(pair, streams.size()));
    }
    for (int i = 0; i < OPS_PER_EPISODE; i++) {
      int dice = random.nextInt(100);
      if (dice < 8 && streams.size() < MAX_STREAMS) {
        streams.add(open(pair, streams.size()));
        continue;
      }
      Tracked t = streams.get(random.nextInt(streams.size()));
      boolean openerEnd = random.nextBoolean();
      if (dice < 40) {
        write(t, openerEnd, 1 + random.nextInt(Math.min(4096, window / 8)));
      } else if (dice < 65) {
        read(t, openerEnd);
      } else if (dice < 77) {
        op(t, openerEnd, "closeWrite");
      } else if (dice < 85) {
        op(t, openerEnd, "closeRead");
      } else if (dice < 91) {
        op(t, openerEnd, "close");
      } else {
        op(t, openerEnd, "reset");
      }
      converge(streams);
    }
    if (random.nextInt(3) == 0) {
      boolean dialer = random.nextBoolean();
      log((dialer ? "dialer" : "listener") + " closes the connection");
      (dialer ? pair.dialer() : pair.listener()).close();
      for (Tracked t : streams) {
        t.model.opener().connectionEnded();
        t.model.acceptor().connectionEnded();
      }
      converge(streams);
    } else {
      // Drain what the model says is still readable, so every byte is checked, then end cleanly.
      for (Tracked t : streams) {
        for (boolean end : new boolean[] {true, false}) {
          while (t.end(end).unread() > 0 && t.end(end).state() != StreamState.RESET
              && t.end(end).state() != StreamState.FAILED) {
            read(t, end);
          }
        }
      }
    }
    for (Tracked t : streams) {
      StreamState oEnd = t.opener.state();
      if (!t.openerEvents.transitions().isEmpty()) {
        Kit.eventually(() -> lastTo(t.openerEvents) == t.opener.state(), "opener listener caught up");
        t.openerEvents.assertChain(t.openerEvents.transitions().get(0)[0], oEnd, "stream " + t.index + " opener events");
      }
      if (!t.acceptorEvents.transitions().isEmpty()) {
        Kit.eventually(() -> lastTo(t.acceptorEvents) == t.acceptor.state(), "acceptor listener caught up");
        t.acceptorEvents.assertChain(t.acceptorStart, t.acceptor.state(), "stream " + t.index + " acceptor events");
      }
    }
  }

  private static StreamState lastTo(Recorder r) {
    List<StreamState[]> ts = r.transitions();
    return ts.isEmpty() ? null : ts.get(ts.size() - 1)[1];
  }

  private Tracked open(ConnectionPair pair, int index) {
    Side side = random.nextBoolean() ? Side.DIALER : Side.LISTENER;
    log("open stream " + index + " from the " + side);
    Recorder oe = new Recorder();
    CompletableFuture<MuxedStream> accepted = pair.acceptor(side).acceptStream();
    MuxedStream o = Kit.await(pair.opener(side).openStream(oe), "open stream " + index);
    MuxedStream a = Kit.await(accepted, "accept stream " + index);
    Recorder ae = new Recorder();
    StreamState start = a.state();
    a.addListener(ae);
    OPERATIONS.incrementAndGet();
    return new Tracked(index, new LifecycleModel(fixture.capabilities().contains(Capability.STOP_SENDING)), o, a, oe, ae,
        start);
  }

  private void write(Tracked t, boolean openerEnd, int size) throws Exception {
    LifecycleModel.End end = t.end(openerEnd);
    LifecycleModel.End peer = openerEnd ? t.model.acceptor() : t.model.opener();
    MuxedStream s = t.stream(openerEnd);
    // Keep what is in flight well inside the window, so a write never waits for a read we did not make.
    if (end.writable() && peer.unread() + size > window / 2 && peer.state() != StreamState.RESET) {
      while (peer.unread() > 0) {
        read(t, !openerEnd);
      }
    }
    byte[] data = new byte[size];
    random.nextBytes(data);
    log(name(t, openerEnd) + " writes " + size + " bytes, model " + end);
    CompletableFuture<Void> f = s.write(ByteBuffer.wrap(data));
    Throwable failure = outcome(f, "write on " + name(t, openerEnd));
    if (end.writable()) {
      if (failure != null) {
        throw new AssertionError(name(t, openerEnd) + ": write failed where the model says it succeeds: " + failure, failure);
      }
      end.wrote(data);
    } else {
      expectFailure(failure, end, "write on " + name(t, openerEnd), true);
    }
    OPERATIONS.incrementAndGet();
  }

  private void read(Tracked t, boolean openerEnd) throws Exception {
    LifecycleModel.End end = t.end(openerEnd);
    MuxedStream s = t.stream(openerEnd);
    StreamState st = end.state();
    if (st == StreamState.RESET || st == StreamState.FAILED) {
      log(name(t, openerEnd) + " reads, expecting " + st);
      expectFailure(outcome(s.read(ByteBuffer.allocate(16)), "read"), end, "read on " + name(t, openerEnd), false);
    } else if (end.unread() > 0) {
      int n = 1 + random.nextInt(end.unread());
      ByteBuffer buf = ByteBuffer.allocate(n);
      log(name(t, openerEnd) + " reads up to " + n + " of " + end.unread() + " unread bytes");
      int got = Kit.await(s.read(buf), "read on " + name(t, openerEnd));
      if (got <= 0) {
        throw new AssertionError(name(t, openerEnd) + ": read returned " + got + " with " + end.unread()
            + " bytes the model says are unread");
      }
      byte[] expected = end.expect(got);
      byte[] actual = new byte[got];
      buf.flip();
      buf.get(actual);
      if (!java.util.Arrays.equals(expected, actual)) {
        throw new AssertionError(name(t, openerEnd) + ": read bytes differ from the bytes written (order or content)");
      }
      end.consumed(got);
    } else if (end.atEnd()) {
      log(name(t, openerEnd) + " reads, expecting EOF");
      int got = Kit.await(s.read(ByteBuffer.allocate(16)), "read on " + name(t, openerEnd));
      if (got != -1) {
        throw new AssertionError(name(t, openerEnd) + ": read returned " + got + " bytes where the model expects EOF");
      }
    } else {
      return; // nothing to read and no end in sight: a read would rightly wait
    }
    OPERATIONS.incrementAndGet();
  }

  private void op(Tracked t, boolean openerEnd, String op) {
    LifecycleModel.End end = t.end(openerEnd);
    MuxedStream s = t.stream(openerEnd);
    log(name(t, openerEnd) + " " + op + ", model " + end);
    switch (op) {
      case "closeWrite":
        CompletableFuture<Void> f = s.closeWrite();
        end.closeWrite();
        Kit.await(f.handle((v, e) -> null), "closeWrite on " + name(t, openerEnd));
        break;
      case "closeRead":
        s.closeRead();
        end.closeRead();
        break;
      case "close":
        s.close();
        end.close();
        break;
      default:
        long code = random.nextInt(1 << 16);
        s.reset(code);
        end.reset(code);
        break;
    }
    OPERATIONS.incrementAndGet();
  }

  /** Waits until every end of every stream is in the state the model says. */
  private void converge(List<Tracked> streams) {
    for (Tracked t : streams) {
      for (boolean end : new boolean[] {true, false}) {
        StreamState expected = t.end(end).state();
        MuxedStream s = t.stream(end);
        try {
          Kit.eventually(() -> s.state() == expected, name(t, end) + " reaches " + expected);
        } catch (AssertionError e) {
          throw new AssertionError(name(t, end) + " is " + s.state() + " but the model says " + expected
              + " (model: " + t.end(end) + ")");
        }
      }
    }
  }

  private Throwable outcome(CompletableFuture<?> f, String what) throws InterruptedException {
    try {
      f.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError(what + " did not complete within " + Kit.waitLimit().toSeconds() + " s");
    }
  }

  private void expectFailure(Throwable failure, LifecycleModel.End end, String what, boolean write) {
    StreamState st = end.state();
    if (failure == null) {
      throw new AssertionError(what + " succeeded where the model (" + end + ") says it fails");
    }
    if (st == StreamState.RESET) {
      if (!(failure instanceof StreamResetException)) {
        throw new AssertionError(what + ": expected StreamResetException, got " + failure, failure);
      }
      StreamResetException r = (StreamResetException) failure;
      if (r.isRemote() != end.resetRemote) {
        throw new AssertionError(what + ": reset origin is " + (r.isRemote() ? "remote" : "local") + ", model says "
            + (end.resetRemote ? "remote" : "local"));
      }
      if ((resetCodes || !end.resetRemote) && r.code() != end.resetCode) {
        throw new AssertionError(what + ": reset code " + r.code() + ", model says " + end.resetCode);
      }
    } else if (st == StreamState.FAILED) {
      if (!(failure instanceof ConnectionFailedException)) {
        throw new AssertionError(what + ": expected ConnectionFailedException, got " + failure, failure);
      }
    } else if (write) {
      if (!(failure instanceof WriteClosedException)) {
        throw new AssertionError(what + ": expected WriteClosedException, got " + failure, failure);
      }
      WriteClosedException w = (WriteClosedException) failure;
      if (!end.writeClosedLocally && w.reason() != WriteClosedException.Reason.STOPPED_BY_PEER) {
        throw new AssertionError(what + ": reason " + w.reason() + " but only the peer stopped us");
      }
      if (!end.stoppedByPeer && w.reason() != WriteClosedException.Reason.CLOSED_LOCALLY) {
        throw new AssertionError(what + ": reason " + w.reason() + " but only we closed the write side");
      }
    } else {
      throw new AssertionError(what + " failed with " + failure + " in state " + st, failure);
    }
  }

  private static String name(Tracked t, boolean openerEnd) {
    return "stream " + t.index + (openerEnd ? " opener" : " acceptor");
  }

  private void log(String line) {
    log.add(line);
  }
}
