package dev.braid.conformance;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.WriteClosedException;
import dev.braid.conformance.Kit.Recorder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The race family (rules R1-R3): several threads on each end race writes, closeWrite, closeRead, close and
 * reset(random code) on one stream, round after round; R2 races a reset against a FIN queued behind a full
 * window; R3 closes or aborts the connection in the middle of the race. After each round the kit checks what
 * must hold whatever the interleaving:
 *
 * <ul>
 *   <li>each end's listener saw one forward chain of transitions (SPEC §2), ending in the state it ended in;
 *   <li>both ends reach a terminal state within {@link Kit#waitLimit()}, and no read or write is left pending
 *       (after the race each end calls closeWrite, which must be enough to end a stream whose ends are not
 *       terminal yet: the peer's FIN, reset or STOP_SENDING must have reached it);
 *   <li>the bytes each end read are whole writes of the peer, contiguous, each at most once, in the order each
 *       writing thread issued them; a write that failed with {@link WriteClosedException} left no byte on the
 *       wire; only a reset or failure may cut the last write short;
 *   <li>when neither end reset and the reader never closed its read side, every write that succeeded arrived;
 *   <li>an end RESET by the peer carries a code the peer really reset with, and the peer ended RESET (local)
 *       with it: a reset called on a stream that was already terminal is a no-op and never reaches the wire;
 *       without any reset call, no end ends RESET; without a connection failure, no end ends FAILED.
 * </ul>
 *
 * <p>Stochastic: the seed picks the operations, sizes, codes and which end opens; the interleaving comes from
 * real threads. A failure names the seed, the round, every operation of that round with its outcome, and the
 * replay command. {@code -Dbraid.race.rounds=N} changes the number of R1 rounds (default 500; R2 and R3 run a
 * fifth of that each).
 */
final class RaceRun {
  /** System property: how many rounds R1 runs (default 500). */
  static final String ROUNDS_PROPERTY = "braid.race.rounds";
  private static final int HEADER = 8; // write id (int), length (int)

  private final long seed;
  private final Random random;
  private final Supplier<ConnectionPair> pairs;
  private final ExecutorService pool;
  private final boolean resetCodes;
  private final int window;
  private final String testClass;
  private final String rule;

  RaceRun(String rule, long seed, Supplier<ConnectionPair> pairs, ExecutorService pool, Set<Capability> capabilities,
      int window, String testClass) {
    this.rule = rule;
    this.seed = seed;
    this.random = new Random(seed);
    this.pairs = pairs;
    this.pool = pool;
    this.resetCodes = capabilities.contains(Capability.RESET_CODES);
    this.window = window;
    this.testClass = testClass;
  }

  /** The seeds of one run: {@code -Dbraid.seed=N} if set, otherwise one fresh seed. */
  static Stream<Long> seeds() {
    String fixed = System.getProperty("braid.seed");
    if (fixed != null && !fixed.isBlank()) {
      return Stream.of(Long.parseLong(fixed.trim()));
    }
    return LongStream.of(new Random().nextLong()).boxed();
  }

  static int rounds() {
    return Integer.getInteger(ROUNDS_PROPERTY, 500);
  }

  // ------------------------------------------------------------------ one end of one stream in one round

  /** A write issued in a round: its id is its content's header, so the reader can tell whose bytes arrived. */
  private static final class Write {
    final int id;
    final String thread;
    final int order; // position in its thread's sequence
    final byte[] bytes;
    CompletableFuture<Void> future;

    Write(int id, String thread, int order, int payload) {
      this.id = id;
      this.thread = thread;
      this.order = order;
      this.bytes = new byte[HEADER + payload];
      ByteBuffer.wrap(bytes).putInt(id).putInt(payload);
      for (int i = 0; i < payload; i++) {
        bytes[HEADER + i] = patternByte(id, i);
      }
    }
  }

  static byte patternByte(int id, int i) {
    int x = id * 0x9E3779B1 + i * 0x85EBCA6B;
    x ^= x >>> 15;
    return (byte) x;
  }

  /** One end: its stream, listener, reader, and what its threads did. */
  private final class End {
    final String name;
    final MuxedStream stream;
    final Recorder recorder;
    final StreamState firstSeen;
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final CompletableFuture<String> reader = new CompletableFuture<>(); // "EOF" or the failure's description
    final AtomicReference<Throwable> readFailure = new AtomicReference<>();
    final List<Write> writes = Collections.synchronizedList(new ArrayList<>());
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final List<Long> resetCodesCalled = Collections.synchronizedList(new ArrayList<>());
    final List<CompletableFuture<Void>> closeWrites = Collections.synchronizedList(new ArrayList<>());
    volatile boolean readClosed;
    StreamState end;
    StreamResetException resetSeen;

    End(String name, MuxedStream stream, Recorder recorder, StreamState firstSeen) {
      this.name = name;
      this.stream = stream;
      this.recorder = recorder;
      this.firstSeen = firstSeen;
    }

    void startReader() {
      ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
      readNext(buf);
    }

    private void readNext(ByteBuffer buf) {
      buf.clear();
      CompletableFuture<Integer> f;
      try {
        f = stream.read(buf);
      } catch (RuntimeException e) {
        reader.complete("read threw " + e);
        return;
      }
      f.whenComplete((n, err) -> {
        if (err != null) {
          readFailure.set(err);
          reader.complete("read failed: " + err);
        } else if (n < 0) {
          reader.complete("EOF");
        } else {
          synchronized (received) {
            received.write(buf.array(), 0, n);
          }
          readNext(buf);
        }
      });
    }
  }

  private String describe(int round, End o, End a) {
    StringBuilder sb = new StringBuilder();
    sb.append(rule).append(" failed with seed ").append(seed).append(" in round ").append(round).append(':');
    for (End e : List.of(o, a)) {
      sb.append("\n  ").append(e.name).append(" ").append(e.stream).append(": ended ")
          .append(e.end == null ? "(not terminal: " + e.stream.state() + ")" : e.end)
          .append(e.resetSeen != null ? " (" + e.resetSeen.getMessage() + ")" : "")
          .append("; listener saw ").append(e.recorder.describe())
          .append("; reader: ").append(e.reader.isDone() ? e.reader.join() : "still pending")
          .append("; read ").append(e.received.size()).append(" bytes");
      synchronized (e.log) {
        for (String l : e.log) {
          sb.append("\n    ").append(l);
        }
      }
      for (Write w : snapshot(e.writes)) {
        Throwable t = failureOf(w);
        sb.append("\n    write #").append(w.id).append(" of ").append(w.thread).append(": ")
            .append(w.future == null || !w.future.isDone() ? "pending" : t == null ? "succeeded" : "failed: " + t);
      }
    }
    sb.append("\nreplay the same choices: ").append(Kit.replayCommand(testClass, rule, seed));
    return sb.toString();
  }

  // ------------------------------------------------------------------ R1

  /** R1: operations race on one stream from both ends, {@link #rounds()} times on one connection. */
  void operations() throws Exception {
    ConnectionPair pair = pairs.get();
    int rounds = rounds();
    int nextWriteId = 1;
    for (int round = 0; round < rounds; round++) {
      boolean dialerOpens = random.nextBoolean();
      End[] ends = openRound(dialerOpens ? pair.dialer() : pair.listener(),
          dialerOpens ? pair.listener() : pair.dialer(), round);
      boolean resets = random.nextInt(3) != 0; // a third of the rounds have no reset at all
      List<Runnable> tasks = new ArrayList<>();
      int kind = random.nextInt(3);
      if (kind > 0) {
        // One end races the four operations that matter most, one per thread, while its peer only reads.
        End e = ends[kind - 1];
        List<Runnable> four = new ArrayList<>(List.of(
            randomOp(e, e.name + "/T0", 0, 0, nextWriteId++),
            randomOp(e, e.name + "/T1", 0, 4, nextWriteId++),
            randomOp(e, e.name + "/T2", 0, 5, nextWriteId++),
            randomOp(e, e.name + "/T3", 0, 8, nextWriteId++)));
        Collections.shuffle(four, random);
        tasks.addAll(four);
        race(tasks, ends[0], ends[1], round);
        finishRound(ends[0], ends[1], round, false);
        tally(ends[0], ends[1]);
        continue;
      }
      for (End e : ends) {
        int threads = 2 + random.nextInt(2);
        for (int t = 0; t < threads; t++) {
          List<Runnable> ops = new ArrayList<>();
          String thread = e.name + "/T" + t;
          int n = 1 + random.nextInt(3);
          for (int k = 0; k < n; k++) {
            ops.add(randomOp(e, thread, k, resets, nextWriteId));
            nextWriteId++;
          }
          tasks.add(() -> ops.forEach(Runnable::run));
        }
      }
      race(tasks, ends[0], ends[1], round);
      finishRound(ends[0], ends[1], round, false);
      tally(ends[0], ends[1]);
    }
    logSummary(rounds);
  }

  private End[] openRound(Connection opener, Connection acceptor, int round) {
    Recorder or = new Recorder();
    Recorder ar = new Recorder();
    CompletableFuture<MuxedStream> accepted = acceptor.acceptStream();
    MuxedStream o = Kit.await(opener.openStream(or), rule + " round " + round + ": openStream");
    MuxedStream a = Kit.await(accepted, rule + " round " + round + ": acceptStream");
    a.addListener(ar);
    End oe = new End("opener", o, or, null);
    End ae = new End("acceptor", a, ar, a.state());
    oe.startReader();
    ae.startReader();
    return new End[] {oe, ae};
  }

  private Runnable randomOp(End e, String thread, int order, boolean resets, int writeId) {
    return randomOp(e, thread, order, random.nextInt(resets ? 10 : 8), writeId);
  }

  /** Operation {@code pick}: 0-3 write, 4 closeWrite, 5 closeRead, 6-7 close, 8-9 reset. */
  private Runnable randomOp(End e, String thread, int order, int pick, int writeId) {
    if (pick < 4) {
      int payload = random.nextInt(4) == 0 ? window / 2 + random.nextInt(window) : random.nextInt(2048);
      Write w = new Write(writeId, thread, order, payload);
      return () -> {
        try {
          w.future = e.stream.write(ByteBuffer.wrap(w.bytes));
        } catch (RuntimeException ex) {
          w.future = CompletableFuture.failedFuture(ex);
        }
        e.writes.add(w);
        e.log.add(thread + ": write #" + w.id + " (" + w.bytes.length + " B)");
      };
    }
    switch (pick) {
      case 4:
        return () -> {
          e.log.add(thread + ": closeWrite (state before: " + e.stream.state() + ")");
          e.closeWrites.add(e.stream.closeWrite());
        };
      case 5:
        return () -> {
          e.readClosed = true;
          e.log.add(thread + ": closeRead (state before: " + e.stream.state() + ")");
          e.stream.closeRead();
        };
      case 6:
      case 7:
        return () -> {
          e.readClosed = true;
          e.log.add(thread + ": close (state before: " + e.stream.state() + ")");
          e.stream.close();
        };
      default:
        long code = random.nextInt(1 << 16);
        return () -> {
          e.resetCodesCalled.add(code);
          e.log.add(thread + ": reset(" + code + ") (state before: " + e.stream.state() + ")");
          e.stream.reset(code);
        };
    }
  }

  private void race(List<Runnable> tasks, End o, End a, int round) {
    CyclicBarrier go = new CyclicBarrier(tasks.size());
    List<CompletableFuture<Void>> running = new ArrayList<>();
    for (Runnable t : tasks) {
      running.add(CompletableFuture.runAsync(() -> {
        try {
          go.await(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          throw new AssertionError("the racing threads did not line up", e);
        }
        t.run();
      }, pool));
    }
    for (CompletableFuture<Void> r : running) {
      try {
        r.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("an operation did not return within " + Kit.waitLimit().toSeconds()
            + " s (operations must not block)\n" + describe(round, o, a));
      } catch (ExecutionException e) {
        throw new AssertionError("an operation threw " + e.getCause() + "\n" + describe(round, o, a), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  /**
   * After the race: each end calls closeWrite, then everything must end; checks the invariants listed in the
   * class comment. {@code connectionMayDie}: R3, where FAILED is an allowed end and data may stop anywhere.
   */
  private void finishRound(End o, End a, int round, boolean connectionMayDie) {
    for (End e : List.of(o, a)) {
      e.log.add("kit: closeWrite after the race (state before: " + e.stream.state() + ")");
      e.closeWrites.add(e.stream.closeWrite());
    }
    for (End e : List.of(o, a)) {
      e.end = awaitOrFail(e.stream.terminated(), round, o, a, e.name + " reaches a terminal state after both ends "
          + "closed their write directions: check that a FIN, reset or STOP_SENDING of its peer reached it");
    }
    for (End e : List.of(o, a)) {
      awaitOrFail(e.reader, round, o, a, e.name + "'s pending read completes (data, EOF or failure)");
      for (Write w : snapshot(e.writes)) {
        awaitOrFail(w.future.handle((v, t) -> null), round, o, a, e.name + "'s write #" + w.id + " completes one way "
            + "or the other");
      }
      for (CompletableFuture<Void> c : snapshot(e.closeWrites)) {
        awaitOrFail(c.handle((v, t) -> null), round, o, a, e.name + "'s closeWrite future completes");
      }
      if (e.end == StreamState.RESET) {
        e.resetSeen = resetOf(e, round, o, a);
      }
    }
    try {
      check(o, a, connectionMayDie);
      check(a, o, connectionMayDie);
      checkChain(o);
      checkChain(a);
    } catch (AssertionError failure) {
      throw new AssertionError(failure.getMessage() + "\n" + describe(round, o, a), failure);
    }
  }

  private static <T> List<T> snapshot(List<T> list) {
    synchronized (list) {
      return new ArrayList<>(list);
    }
  }

  private <T> T awaitOrFail(CompletableFuture<T> f, int round, End o, End a, String what) {
    try {
      return f.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("timed out after " + Kit.waitLimit().toSeconds() + " s waiting until " + what + "\n"
          + describe(round, o, a));
    } catch (ExecutionException e) {
      throw new AssertionError(what + " failed: " + e.getCause() + "\n" + describe(round, o, a), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private StreamResetException resetOf(End e, int round, End o, End a) {
    Throwable t = awaitOrFail(e.stream.read(ByteBuffer.allocate(1)).handle((v, err) -> err), round, o, a,
        e.name + ": a read on the RESET stream fails");
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (!(cause instanceof StreamResetException)) {
      throw new AssertionError(e.name + " ended RESET but a read fails with " + cause + " instead of "
          + "StreamResetException (rule C3)\n" + describe(round, o, a));
    }
    return (StreamResetException) cause;
  }

  private void checkChain(End e) {
    List<StreamState[]> ts = e.recorder.transitions();
    StreamState first = e.firstSeen != null ? e.firstSeen : ts.isEmpty() ? e.end : ts.get(0)[0];
    if (first == e.end) {
      if (!ts.isEmpty()) {
        throw new AssertionError(e.name + ": the listener saw " + e.recorder.describe() + " although the stream was "
            + e.end + " when it was added");
      }
      return;
    }
    e.recorder.assertChain(first, e.end, e.name + "'s listener (rule L1/L2)");
  }

  /** The invariants of bytes written by {@code sender} and read by {@code receiver}, and of how each ended. */
  private void check(End sender, End receiver, boolean connectionMayDie) {
    boolean anyReset = !sender.resetCodesCalled.isEmpty() || !receiver.resetCodesCalled.isEmpty();
    boolean aborted = sender.end == StreamState.RESET || sender.end == StreamState.FAILED
        || receiver.end == StreamState.RESET || receiver.end == StreamState.FAILED;
    if (!connectionMayDie && sender.end == StreamState.FAILED) {
      throw new AssertionError(sender.name + " ended FAILED although its connection is open: the transport hit an "
          + "unexpected error");
    }
    if (!anyReset && sender.end == StreamState.RESET) {
      throw new AssertionError(sender.name + " ended RESET although neither end called reset");
    }
    if (sender.end == StreamState.RESET && sender.resetSeen != null) {
      StreamResetException r = sender.resetSeen;
      List<Long> own = snapshot(sender.resetCodesCalled);
      List<Long> peers = snapshot(receiver.resetCodesCalled);
      if (!r.isRemote() && !own.contains(r.code())) {
        throw new AssertionError(sender.name + " is RESET locally with code " + r.code() + " but called reset with "
            + own);
      }
      if (r.isRemote()) {
        if (peers.isEmpty()) {
          throw new AssertionError(sender.name + " is RESET by the peer, but the peer never called reset");
        }
        if (resetCodes && !peers.contains(r.code())) {
          throw new AssertionError(sender.name + " is RESET by the peer with code " + r.code() + ", but the peer "
              + "called reset only with " + peers);
        }
        if (receiver.end != StreamState.RESET && !connectionMayDie) {
          throw new AssertionError(sender.name + " is RESET by the peer, but the peer ended " + receiver.end + ": a "
              + "reset called on a terminal stream is a no-op and must not reach the wire (rule C5)");
        }
        if (receiver.resetSeen != null && !receiver.resetSeen.isRemote() && resetCodes
            && receiver.resetSeen.code() != r.code()) {
          throw new AssertionError(sender.name + " is RESET by the peer with code " + r.code() + ", but the peer's own "
              + "reset carries code " + receiver.resetSeen.code());
        }
      }
    }
    // The bytes: whole writes of the sender, each at most once, in each thread's order.
    byte[] got;
    synchronized (receiver.received) {
      got = receiver.received.toByteArray();
    }
    Map<Integer, Write> byId = new HashMap<>();
    for (Write w : snapshot(sender.writes)) {
      byId.put(w.id, w);
    }
    Set<Integer> arrived = new HashSet<>();
    Map<String, Integer> lastOrder = new HashMap<>();
    int at = 0;
    while (at < got.length) {
      if (got.length - at < HEADER) {
        requireCut(at, got.length, aborted || receiver.readClosed, connectionMayDie, receiver, "inside a write's header");
        break;
      }
      ByteBuffer h = ByteBuffer.wrap(got, at, HEADER);
      int id = h.getInt();
      int len = h.getInt();
      Write w = byId.get(id);
      if (w == null || w.bytes.length != HEADER + len) {
        throw new AssertionError(receiver.name + " read bytes at offset " + at + " that do not start a write of "
            + sender.name + " (id " + id + ", length " + len + "): bytes lost, interleaved or reordered (rules D3, L4)");
      }
      if (!arrived.add(id)) {
        throw new AssertionError(receiver.name + " read write #" + id + " twice");
      }
      Throwable failure = failureOf(w);
      if (failure instanceof WriteClosedException
          && ((WriteClosedException) failure).reason() == WriteClosedException.Reason.CLOSED_LOCALLY) {
        throw new AssertionError(receiver.name + " read bytes of write #" + id + ", which failed with " + failure
            + ": a write refused after closeWrite must leave nothing on the wire (rule L4)");
      }
      Integer prev = lastOrder.put(w.thread, w.order);
      if (prev != null && prev > w.order) {
        throw new AssertionError(receiver.name + " read write #" + id + " of " + w.thread + " after a later write of "
            + "the same thread");
      }
      int n = Math.min(w.bytes.length, got.length - at);
      for (int i = HEADER; i < n; i++) {
        if (got[at + i] != w.bytes[i]) {
          throw new AssertionError(receiver.name + " read write #" + id + " with a wrong byte at " + (i - HEADER)
              + ": bytes of another write inside it, or reordered (rule D3)");
        }
      }
      if (n < w.bytes.length) {
        requireCut(at + n, got.length, aborted || receiver.readClosed, connectionMayDie, receiver, "inside write #" + id);
        break;
      }
      at += n;
    }
    // Completeness: nothing reset or failed, and the receiver never stopped reading.
    if (!aborted && !receiver.readClosed && !connectionMayDie) {
      for (Write w : byId.values()) {
        if (failureOf(w) == null && !arrived.contains(w.id)) {
          throw new AssertionError("write #" + w.id + " of " + sender.name + " succeeded and neither end reset, but "
              + receiver.name + " never read it (it read " + got.length + " bytes, then " + receiver.reader.join() + ")");
        }
      }
      if (!"EOF".equals(receiver.reader.join())) {
        throw new AssertionError(receiver.name + "'s reads ended with " + receiver.reader.join() + " although "
            + "the stream ended " + receiver.end + " without a reset");
      }
    }
  }

  private void requireCut(int offset, int length, boolean allowed, boolean connectionMayDie, End receiver,
      String where) {
    if (!allowed && !connectionMayDie) {
      throw new AssertionError(receiver.name + "'s bytes end " + where + " at offset " + offset + " of " + length
          + ", although nothing reset or failed the stream and it never closed its read side: a write was cut short");
    }
  }

  private static Throwable failureOf(Write w) {
    if (w.future == null || !w.future.isCompletedExceptionally()) {
      return null;
    }
    try {
      w.future.join();
      return null;
    } catch (CompletionException e) {
      return e.getCause();
    } catch (java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  // ------------------------------------------------------------------ R2

  /**
   * R2: a FIN is queued behind more than a window of data the peer has not read yet; then a reset races the peer
   * starting to read. The reset must win on both ends: the peer ends RESET with the code (never a clean EOF),
   * whatever of the data and FIN reached it first.
   */
  void resetAgainstQueuedFin() throws Exception {
    ConnectionPair pair = pairs.get();
    int rounds = Math.max(1, rounds() / 5);
    for (int round = 0; round < rounds; round++) {
      boolean dialerOpens = random.nextBoolean();
      Connection opener = dialerOpens ? pair.dialer() : pair.listener();
      Connection acceptor = dialerOpens ? pair.listener() : pair.dialer();
      Recorder or = new Recorder();
      Recorder ar = new Recorder();
      CompletableFuture<MuxedStream> accepted = acceptor.acceptStream();
      MuxedStream os = Kit.await(opener.openStream(or), rule + " round " + round + ": openStream");
      MuxedStream as = Kit.await(accepted, rule + " round " + round + ": acceptStream");
      as.addListener(ar);
      End o = new End("opener", os, or, null);
      End a = new End("acceptor", as, ar, as.state());
      boolean openerWrites = random.nextBoolean();
      End writer = openerWrites ? o : a;
      End reader = openerWrites ? a : o;
      int writes = 2 + random.nextInt(3);
      for (int i = 0; i < writes; i++) {
        Write w = new Write(round * 16 + i + 1, writer.name + "/T0", i, window - HEADER);
        w.future = writer.stream.write(ByteBuffer.wrap(w.bytes));
        writer.writes.add(w);
        writer.log.add("write #" + w.id + " (" + w.bytes.length + " B)");
      }
      writer.log.add("closeWrite: the FIN queues behind the data the peer has not read");
      CompletableFuture<Void> finHandedOver = writer.stream.closeWrite();
      writer.closeWrites.add(finHandedOver);
      writer.startReader();
      long code = 1 + random.nextInt(1 << 16);
      Runnable reset = () -> {
        writer.resetCodesCalled.add(code);
        writer.log.add("reset(" + code + ") (state before: " + writer.stream.state() + ")");
        writer.stream.reset(code);
      };
      Runnable read = () -> {
        reader.log.add("starts reading (state before: " + reader.stream.state() + ")");
        reader.startReader();
      };
      if (random.nextInt(3) == 0) {
        // One round in three does not leave it to the race that the reset sometimes follows the FIN on the wire:
        // the reader drains, the FIN is handed to the transport (closeWrite completes), and only then the reset.
        writer.log.add("this round resets only after the FIN was handed to the transport");
        read.run();
        awaitOrFail(finHandedOver, round, o, a, "closeWrite completes once the reader drained the window");
        reset.run();
      } else {
        race(List.of(reset, read), o, a, round);
      }
      for (End e : List.of(o, a)) {
        e.end = awaitOrFail(e.stream.terminated(), round, o, a, e.name + " reaches a terminal state: the reset "
            + "must reach the peer even when the FIN was queued or sent before it");
      }
      awaitOrFail(reader.reader, round, o, a, "the reader's pending read completes");
      awaitOrFail(writer.reader, round, o, a, "the writer's pending read completes");
      for (Write w : writer.writes) {
        awaitOrFail(w.future.handle((v, t) -> null), round, o, a, "write #" + w.id + " completes one way or the other");
      }
      for (End e : List.of(o, a)) {
        if (e.end == StreamState.RESET) {
          e.resetSeen = resetOf(e, round, o, a);
        }
      }
      try {
        if (writer.end != StreamState.RESET || writer.resetSeen.isRemote() || writer.resetSeen.code() != code) {
          throw new AssertionError("the writer called reset(" + code + ") while its stream was WRITE_CLOSED (not "
              + "terminal: the peer never closed its side), so it must end RESET locally with that code");
        }
        if (reader.end != StreamState.RESET || !reader.resetSeen.isRemote()
            || (resetCodes && reader.resetSeen.code() != code)) {
          throw new AssertionError("the reader must end RESET by the peer" + (resetCodes ? " with code " + code : "")
              + ": a reset that follows a FIN (queued or sent) must still reach the peer");
        }
        check(writer, reader, false);
        checkChain(o);
        checkChain(a);
      } catch (AssertionError failure) {
        throw new AssertionError(failure.getMessage() + "\n" + describe(round, o, a), failure);
      }
      tally(o, a);
    }
    logSummary(rounds);
  }

  // ------------------------------------------------------------------ R3

  /**
   * R3: the race of R1 on two streams of a fresh connection, while one thread closes (gracefully) or aborts the
   * connection from a random end at a random point. Everything ends within the bound; bytes that arrived are
   * whole writes in order (a prefix may be cut short); FAILED is now an allowed end.
   */
  void connectionCloseMidRace() throws Exception {
    int rounds = Math.max(1, rounds() / 5);
    int nextWriteId = 1;
    for (int round = 0; round < rounds; round++) {
      ConnectionPair pair = pairs.get();
      List<End[]> streams = new ArrayList<>();
      List<Runnable> tasks = new ArrayList<>();
      for (int s = 0; s < 2; s++) {
        boolean dialerOpens = random.nextBoolean();
        End[] ends = openRound(dialerOpens ? pair.dialer() : pair.listener(),
            dialerOpens ? pair.listener() : pair.dialer(), round);
        streams.add(ends);
        for (End e : ends) {
          List<Runnable> ops = new ArrayList<>();
          String thread = e.name + "#" + s + "/T0";
          int n = 1 + random.nextInt(3);
          for (int k = 0; k < n; k++) {
            ops.add(randomOp(e, thread, k, random.nextBoolean(), nextWriteId++));
          }
          tasks.add(() -> ops.forEach(Runnable::run));
        }
      }
      boolean dialerCloses = random.nextBoolean();
      boolean abort = random.nextInt(3) == 0;
      int spins = random.nextInt(2000);
      Connection closing = dialerCloses ? pair.dialer() : pair.listener();
      End[] first = streams.get(0);
      tasks.add(() -> {
        for (int i = 0; i < spins; i++) {
          Thread.onSpinWait();
        }
        first[0].log.add("kit: " + (abort ? "abort" : "close") + " the " + (dialerCloses ? "dialer's" : "listener's")
            + " connection after " + spins + " spins");
        if (abort) {
          closing.abort(new java.io.IOException("aborted by the conformance kit's race"));
        } else {
          closing.close();
        }
      });
      race(tasks, first[0], first[1], round);
      for (End[] ends : streams) {
        finishRound(ends[0], ends[1], round, true);
        tally(ends[0], ends[1]);
      }
      for (Connection c : List.of(pair.dialer(), pair.listener())) {
        try {
          c.closeFuture().handle((v, t) -> null).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          throw new AssertionError(rule + " seed " + seed + " round " + round + ": " + c + " did not end within "
              + Kit.waitLimit().toSeconds() + " s after its peer was " + (abort ? "aborted" : "closed"));
        }
        if (c.isOpen()) {
          throw new AssertionError(rule + " seed " + seed + " round " + round + ": " + c + " still open after its "
              + "close future completed");
        }
        Kit.eventually(() -> c.streams().isEmpty(), rule + " seed " + seed + " round " + round + ": " + c
            + "'s stream list empties after the connection ended (left: " + c.streams() + ")");
      }
      for (End[] ends : streams) {
        for (End e : ends) {
          if (e.end == StreamState.FAILED) {
            Throwable t = e.readFailure.get();
            Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
            if (cause != null && !(cause instanceof ConnectionFailedException) && !(cause instanceof StreamResetException)) {
              throw new AssertionError(rule + " seed " + seed + " round " + round + ": " + e.name + " ended FAILED "
                  + "but its pending read failed with " + cause + ", not ConnectionFailedException");
            }
          }
        }
      }
    }
    logSummary(rounds);
  }

  private final Map<String, Integer> outcomes = new java.util.TreeMap<>();
  private long bytesChecked;
  private int writesIssued;

  private void tally(End o, End a) {
    outcomes.merge(o.end + "/" + a.end, 1, Integer::sum);
    bytesChecked += o.received.size() + a.received.size();
    writesIssued += o.writes.size() + a.writes.size();
  }

  private void logSummary(int rounds) {
    System.getLogger(RaceRun.class.getName()).log(System.Logger.Level.INFO,
        "{0} seed {1}: {2} rounds, {3} writes, {4} bytes checked; final states (opener/acceptor): {5}", rule,
        String.valueOf(seed), rounds, writesIssued, bytesChecked, outcomes);
  }
}
