package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.TransportOptions;
import dev.braid.spi.DaemonThreads;
import dev.braid.transport.quic.internal.QuicMuxedStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stochastic: every way of ending a stream, raced from several threads on one QUIC stream, still tells the peer.
 * It can show that a bad interleaving exists, never that none does; it says how many rounds it ran.
 *
 * <p>Each round opens a stream on one connection (from its dialer or its listener end, at random); the accepting end
 * (the peer) keeps a read pending, and four
 * threads released by one barrier race {@code write}, {@code closeWrite}, {@code closeRead} and {@code reset(code)} on
 * the opening end. In half of the rounds threads on the accepting end race a random non-empty subset of the same four
 * operations at the same moment. Afterwards, within {@link #BOUND_SECONDS}: both ends reach a terminal state, every
 * read the test issued and every write and closeWrite future completes. A peer left in WRITE_CLOSED or READ_CLOSED
 * with its read pending is exactly the failure of issue 13 item 1: the opener ended CLOSED (its closeWrite and
 * closeRead won the race, its reset came too late to matter), but its FIN never reached the peer. Before its fix that
 * happened in about 1 round in 35 (43 of 1,500); the peer's answer to the opener's own STOP_SENDING was taken for a
 * reset by the peer, which ended the flush of a CLOSED stream before its FIN (see the README, "closeRead's
 * STOP_SENDING code").
 *
 * <p>Seeded ({@code -Dbraid.seed=N}; {@code -Dbraid.race.rounds=N}, default 300): the seed fixes write sizes, reset
 * codes and which rounds race from the peer too; the thread interleaving is up to the scheduler. A failure lists
 * each failed round with both ends' states, the order in which the racing calls returned and the transport's view
 * of the stream, and prints the replay command.
 */
class QuicRaceTest {
  private static final long BOUND_SECONDS = 10;
  private static final int ROUNDS = Integer.getInteger("braid.race.rounds", 300);

  private QuicPair pair;
  private ExecutorService pool;

  @BeforeEach
  void connect() throws Exception {
    pair = QuicPair.connect(TransportOptions.DEFAULTS);
    pool = DaemonThreads.pool("race-", 8);
  }

  @AfterEach
  void close() {
    pool.shutdownNow();
    pair.close();
  }

  /** The four racing operations. */
  private enum Op { WRITE, CLOSE_WRITE, CLOSE_READ, RESET }

  @Test
  void closesAndResetsRacingOnOneStreamAlwaysReachThePeer() throws Exception {
    long seed = Long.getLong("braid.seed", System.nanoTime());
    System.out.println("QuicRaceTest seed " + seed + ", " + ROUNDS + " rounds");
    Random random = new Random(seed);
    List<String> failures = new ArrayList<>();
    Map<String, Integer> outcomes = new TreeMap<>();
    int peerRaced = 0;
    for (int round = 0; round < ROUNDS; round++) {
      boolean peerRaces = random.nextBoolean();
      peerRaced += peerRaces ? 1 : 0;
      String problem;
      try {
        problem = round(random, peerRaces, outcomes);
      } catch (TimeoutException | ExecutionException e) {
        throw new AssertionError("round " + round + ": no stream could be opened and accepted within " + BOUND_SECONDS
            + " s (connection open: dialer " + pair.dialer.isOpen() + ", listener " + pair.accepted.isOpen()
            + "), after " + failures.size() + " failed rounds; seed " + seed + ", replay with -Dbraid.seed=" + seed, e);
      }
      if (problem != null) {
        failures.add("round " + round + (peerRaces ? " (peer raced too)" : "") + ": " + problem);
      }
    }
    System.out.println("QuicRaceTest end states (opener -> peer: rounds): " + outcomes);
    if (!failures.isEmpty()) {
      fail(failures.size() + " of " + ROUNDS + " rounds failed (" + peerRaced + " with the peer racing too), seed "
          + seed + "; replay: mvn -B -o test -pl transport-quic -Dtest=QuicRaceTest -Dbraid.seed=" + seed
          + "\n  " + String.join("\n  ", failures.subList(0, Math.min(10, failures.size()))));
    }
  }

  /**
   * The interleaving the race above finds, made deterministic: closeWrite, then closeRead, while most of a write is
   * still queued (held by the peer's flow control), so that the opener is CLOSED while it still has to send its bytes
   * and FIN. The peer is told to stop sending and must then still read every byte and the FIN. Before the fix the peer's
 * reads stayed pending in every run: the opener's end ({@code onTerminated}) sent STOP_SENDING with code 0 before
 * closeRead's own one, and the peer's RESET_STREAM answering it, code 0, ended the opener's flush as a "peer reset".
   */
  @Test
  void closeWriteThenCloseReadWhileBytesAreQueuedStillDeliversEveryByteAndTheFin() throws Exception {
    MuxedStream local = pair.dialer.openStream().get(BOUND_SECONDS, TimeUnit.SECONDS);
    MuxedStream peer = pair.accepted.acceptStream().get(BOUND_SECONDS, TimeUnit.SECONDS);
    CompletableFuture<StreamState> peerStopped = new CompletableFuture<>();
    peer.addListener((stream, from, to) -> {
      if (to == StreamState.WRITE_CLOSED || to.isTerminal()) {
        peerStopped.complete(to);
      }
    });
    int size = 4 << 20; // 16 receive windows: held by flow control until the peer reads
    CompletableFuture<Void> written = local.write(ByteBuffer.wrap(new byte[size]));
    CompletableFuture<Void> fin = local.closeWrite();
    local.closeRead();
    assertEquals(StreamState.CLOSED, local.state());
    // The peer processes our STOP_SENDING (its QUIC stack answers it with RESET_STREAM) before it reads anything.
    assertEquals(StreamState.WRITE_CLOSED, await(peerStopped, "the peer's WRITE_CLOSED", local, peer));
    CompletableFuture<String> reads = readToEnd(peer);
    assertEquals("EOF after " + size + " bytes", await(reads, "the peer's reads to EOF", local, peer));
    await(written, "the write", local, peer);
    await(fin, "closeWrite", local, peer);
    assertEquals(StreamState.CLOSED, await(local.terminated(), "the opener's end", local, peer));
    assertEquals(StreamState.CLOSED, await(peer.terminated(), "the peer's end", local, peer));
  }

  /** Waits at most {@link #BOUND_SECONDS} for {@code f}; a failure names what was awaited and both ends' state. */
  private static <T> T await(CompletableFuture<T> f, String what, MuxedStream local, MuxedStream peer)
      throws InterruptedException {
    try {
      return f.get(BOUND_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException | ExecutionException e) {
      throw new AssertionError(what + (e instanceof TimeoutException ? " did not complete within " + BOUND_SECONDS
          + " s" : " failed: " + e.getCause()) + "\n  opener " + describe(local) + "\n  peer " + describe(peer), e);
    }
  }

  /** One round; returns a description of what went wrong, or null. */
  private String round(Random random, boolean peerRaces, Map<String, Integer> tally) throws Exception {
    boolean dialerOpens = random.nextBoolean();
    Connection opener = dialerOpens ? pair.dialer : pair.accepted;
    Connection acceptor = dialerOpens ? pair.accepted : pair.dialer;
    MuxedStream local = opener.openStream().get(BOUND_SECONDS, TimeUnit.SECONDS);
    MuxedStream peer = acceptor.acceptStream().get(BOUND_SECONDS, TimeUnit.SECONDS);
    CompletableFuture<String> localReads = readToEnd(local);
    CompletableFuture<String> peerReads = readToEnd(peer);

    List<Op> peerOps = new ArrayList<>();
    if (peerRaces) {
      while (peerOps.isEmpty()) {
        for (Op op : Op.values()) {
          if (random.nextBoolean()) {
            peerOps.add(op);
          }
        }
      }
    }
    int localWrite = writeSize(random);
    long localCode = random.nextInt(Integer.MAX_VALUE);
    int peerWrite = writeSize(random);
    long peerCode = random.nextInt(Integer.MAX_VALUE);

    CyclicBarrier go = new CyclicBarrier(Op.values().length + peerOps.size());
    ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
    AtomicInteger ticket = new AtomicInteger();
    List<CompletableFuture<?>> outcomes = new ArrayList<>(); // futures the stream returned (write, closeWrite)
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (Op op : Op.values()) {
      calls.add(race(go, "opener", local, op, localWrite, localCode, order, ticket, outcomes));
    }
    for (Op op : peerOps) {
      calls.add(race(go, "peer", peer, op, peerWrite, peerCode, order, ticket, outcomes));
    }

    List<String> problems = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
    for (CompletableFuture<Void> c : calls) {
      awaitWithin(c, deadline, "a racing call did not return", problems);
      if (c.isCompletedExceptionally()) {
        problems.add("a racing call threw: " + c.handle((v, e) -> e).join());
      }
    }
    StreamState localEnd = awaitWithin(local.terminated(), deadline, "the opener did not reach a terminal state",
        problems);
    StreamState peerEnd = awaitWithin(peer.terminated(), deadline, "the peer did not reach a terminal state", problems);
    synchronized (outcomes) {
      for (CompletableFuture<?> f : outcomes) {
        awaitWithin(f, deadline, "a write or closeWrite future never completed", problems);
      }
    }
    awaitWithin(localReads, deadline, "the opener's read stayed pending", problems);
    awaitWithin(peerReads, deadline, "the peer's read stayed pending", problems);
    tally.merge(localEnd + " -> " + peerEnd + (peerRaces ? " (peer raced)" : ""), 1, Integer::sum);
    if (problems.isEmpty()) {
      return null;
    }
    String report = String.join("; ", problems) + "\n    opener " + localEnd + " / " + local.state() + " ("
        + describe(local) + ")\n    peer " + peerEnd + " / " + peer.state() + " (" + describe(peer)
        + ")\n    calls returned in order " + order + ", peer ops " + peerOps;
    // Free the stuck streams so that later rounds start clean (a no-op on a terminal end).
    local.reset(1);
    peer.reset(1);
    return report;
  }

  /** Mostly small writes, sometimes more than kwik's 50 KiB send buffer (still in flight when the others act). */
  private static int writeSize(Random random) {
    return random.nextInt(4) == 0 ? 1 + random.nextInt(200 * 1024) : 1 + random.nextInt(4096);
  }

  private CompletableFuture<Void> race(CyclicBarrier go, String end, MuxedStream s, Op op, int size, long code,
      ConcurrentLinkedQueue<String> order, AtomicInteger ticket, List<CompletableFuture<?>> outcomes) {
    return CompletableFuture.runAsync(() -> {
      try {
        go.await(BOUND_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
        throw new IllegalStateException("the racing threads were not released together", e);
      }
      CompletableFuture<?> f = null;
      switch (op) {
        case WRITE:
          f = s.write(ByteBuffer.wrap(new byte[size]));
          break;
        case CLOSE_WRITE:
          f = s.closeWrite();
          break;
        case CLOSE_READ:
          s.closeRead();
          break;
        default:
          s.reset(code);
          break;
      }
      order.add(ticket.incrementAndGet() + ":" + end + "." + op);
      if (f != null) {
        synchronized (outcomes) {
          outcomes.add(f);
        }
      }
    }, pool);
  }

  /**
   * Reads until end of stream or a failure, one read pending at a time; completes with how it ended. A read that
   * never completes leaves the returned future pending.
   */
  private static CompletableFuture<String> readToEnd(MuxedStream s) {
    CompletableFuture<String> done = new CompletableFuture<>();
    readNext(s, ByteBuffer.allocate(8192), 0, done);
    return done;
  }

  private static void readNext(MuxedStream s, ByteBuffer buf, long total, CompletableFuture<String> done) {
    buf.clear();
    s.read(buf).whenComplete((n, err) -> {
      if (err != null) {
        done.complete("failed after " + total + " bytes: " + err);
      } else if (n < 0) {
        done.complete("EOF after " + total + " bytes");
      } else {
        readNext(s, buf, total + n, done);
      }
    });
  }

  /** Waits for {@code f} until {@code deadline}; records {@code what} if it did not complete by then. */
  private static <T> T awaitWithin(CompletableFuture<T> f, long deadline, String what, List<String> problems)
      throws InterruptedException {
    try {
      return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      problems.add(what + " within " + BOUND_SECONDS + " s");
      return null;
    } catch (ExecutionException e) {
      return null; // completed exceptionally: completed, which is all this test asks of it
    }
  }

  private static String describe(MuxedStream s) {
    return s instanceof QuicMuxedStream ? ((QuicMuxedStream) s).describe() : s.toString();
  }
}
