package dev.braid.conformance;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * Rule H8, closeWrite at scale: thousands of streams on one connection, opened from both ends, each several
 * receive windows long so that writes wait for flow-control credit, written through the blocking view or
 * through the asynchronous core with several writes in flight, then closeWrite; the peer checks every
 * byte. A FIN that overtakes data still queued in the transport (a race too rare for H1's few streams: about
 * one stream in 450 on TCP before its fix) shows here as a stream that ends early or bytes out of place.
 *
 * <p>Stochastic: the seed picks each stream's opener, length, chunking and writer mode; the interleaving
 * comes from real threads. A failure names the seed, the stream and the command that replays the same
 * choices. {@code -Dbraid.h8.streams=N} changes the number of streams (default 5,000).
 */
final class CloseWriteAtScale {
  /** System property: how many streams one run writes and closes (default 5,000). */
  static final String STREAMS_PROPERTY = "braid.h8.streams";
  private static final int HEADER = 16; // magic (int), stream index (int), length (long)
  private static final int MAGIC = 0x48384852; // "H8HR"
  private static final int MAX_FAILURES_SHOWN = 5;

  private enum Mode { BLOCKING, ASYNC }

  private record Plan(int index, boolean dialerOpens, Mode mode, int inFlight, int[] chunks, int length) {
    String describe() {
      return "stream #" + index + " (opened by the " + (dialerOpens ? "dialer" : "listener") + ", "
          + (mode == Mode.BLOCKING ? "blocking OutputStream" : "asynchronous core with up to " + inFlight
          + " writes in flight") + ", " + length + " bytes in " + chunks.length + " writes, the last ones "
          + tail(chunks) + ")";
    }
  }

  private final long seed;
  private final ConnectionPair pair;
  private final ExecutorService pool;
  private final int streams;
  private final int window;
  private final byte[] pattern;
  private final List<Plan> plans = new ArrayList<>();
  private final List<CompletableFuture<Boolean>> verdicts = new ArrayList<>();
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong bytesChecked = new AtomicLong();
  private final AtomicLong finished = new AtomicLong();

  CloseWriteAtScale(long seed, ConnectionPair pair, ExecutorService pool) {
    this.seed = seed;
    this.pair = pair;
    this.pool = pool;
    this.streams = Integer.getInteger(STREAMS_PROPERTY, 5000);
    this.window = Math.max(pair.dialer().options().receiveWindow(), pair.listener().options().receiveWindow());
    Random r = new Random(seed);
    int maxLength = 0;
    for (int i = 0; i < streams; i++) {
      Plan p = plan(i, r);
      plans.add(p);
      verdicts.add(new CompletableFuture<>());
      maxLength = Math.max(maxLength, p.length());
    }
    // Offset i of stream k carries pattern[(i + 7919 k) mod P]; P exceeds every stream's length, so a byte
    // that arrives out of place (a lost, repeated or reordered chunk) does not match.
    pattern = new byte[maxLength + 8191];
    r.nextBytes(pattern);
  }

  /** The seeds of one run: {@code -Dbraid.seed=N} if set, otherwise one fresh seed. */
  static Stream<Long> seeds() {
    String fixed = System.getProperty("braid.seed");
    if (fixed != null && !fixed.isBlank()) {
      return Stream.of(Long.parseLong(fixed.trim()));
    }
    return LongStream.of(new Random().nextLong()).boxed();
  }

  private Plan plan(int index, Random r) {
    // 2 to 3 windows: every stream waits for credit at least once.
    int length = HEADER + 2 * window + r.nextInt(window + 1);
    List<Integer> chunks = new ArrayList<>();
    int left = length;
    // Blocking streams, and half of the others, end with a write larger than the window (it waits for credit and
    // completes on the transport's thread) followed by a small one that fits: the pattern that let TCP's FIN
    // overtake data.
    Mode mode = r.nextBoolean() ? Mode.BLOCKING : Mode.ASYNC;
    int tail = mode == Mode.BLOCKING || r.nextBoolean() ? Math.min(left - 1, window + r.nextInt(window)) : 0;
    int last = tail > 0 ? Math.min(left - tail, 1 + r.nextInt(4096)) : 0;
    int body = left - tail - last;
    while (body > 0) {
      int c;
      switch (r.nextInt(4)) {
        case 0: c = 64 * 1024; break;
        case 1: c = 16 * 1024; break;
        case 2: c = 1 + r.nextInt(2048); break;
        default: c = 1 + r.nextInt(2 * window); break;
      }
      c = Math.min(c, body);
      chunks.add(c);
      body -= c;
    }
    if (tail > 0) {
      chunks.add(tail);
    }
    if (last > 0) {
      chunks.add(last);
    }
    int[] sizes = chunks.stream().mapToInt(Integer::intValue).toArray();
    return new Plan(index, r.nextBoolean(), mode, 2 + r.nextInt(7), sizes, length);
  }

  void run(String testClass) throws Exception {
    for (Connection c : List.of(pair.dialer(), pair.listener())) {
      c.setStreamHandler(s -> new Verifier(s).next());
    }
    // Three phases: one stream at a time (the writer's wake-up can preempt the transport's thread on its core,
    // which is how TCP's FIN overtook data), two at a time, then eight at a time (a busy transport).
    AtomicInteger next = new AtomicInteger();
    int[] concurrency = {1, 2, 8};
    for (int phase = 0; phase < concurrency.length && !stop.get(); phase++) {
      int end = phase == concurrency.length - 1 ? streams : streams * (phase + 1) / concurrency.length;
      List<CompletableFuture<Void>> workers = new ArrayList<>();
      for (int w = 0; w < concurrency[phase]; w++) {
        workers.add(CompletableFuture.runAsync(() -> {
          int i;
          while (!stop.get() && (i = next.getAndUpdate(k -> Math.min(k + 1, end))) < end) {
            try {
              writeOne(plans.get(i));
            } catch (Throwable t) {
              failed(plans.get(i).describe() + ": " + t);
            }
            finished.incrementAndGet();
          }
        }, pool));
      }
      awaitProgress(workers);
    }
    int done = Math.min(next.get(), streams);
    if (!failures.isEmpty()) {
      StringBuilder sb = new StringBuilder("H8 closeWrite lost or misplaced data with seed ").append(seed)
          .append(" (").append(failures.size()).append(" failure(s) in the first ").append(done).append(" of ")
          .append(streams).append(" streams; a FIN that overtakes bytes still queued in the transport is the first "
          + "thing to check)");
      synchronized (failures) {
        for (String f : failures.subList(0, Math.min(MAX_FAILURES_SHOWN, failures.size()))) {
          sb.append("\n  ").append(f);
        }
      }
      sb.append("\nreplay the same choices: ").append(Kit.replayCommand(testClass, "H8", seed));
      throw new AssertionError(sb.toString());
    }
    System.getLogger(CloseWriteAtScale.class.getName()).log(System.Logger.Level.INFO,
        "H8 seed {0}: {1} streams written and closed, {2} bytes checked at the peer", String.valueOf(seed), streams,
        bytesChecked.get());
  }

  /**
   * Waits for the workers. The run takes as long as the transport needs; what is bounded is progress: each
   * wait of a writer is bounded by the kit's wait limit, and so is the time between two streams finishing.
   */
  private void awaitProgress(List<CompletableFuture<Void>> workers) throws Exception {
    CompletableFuture<Void> all = CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0]));
    long seen = -1;
    while (!all.isDone()) {
      long now = finished.get();
      if (now == seen) {
        throw new AssertionError("H8 made no progress for " + Kit.waitLimit().toSeconds() + " s after " + now
            + " of " + streams + " streams (seed " + seed + ")");
      }
      seen = now;
      try {
        all.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // check progress and wait again
      }
    }
    all.join();
  }

  private void failed(String what) {
    failures.add(what);
    stop.set(true);
  }

  private void writeOne(Plan p) throws Exception {
    Connection opener = p.dialerOpens() ? pair.dialer() : pair.listener();
    MuxedStream s = Kit.await(opener.openStream(), "opening " + p.describe());
    byte[] data = new byte[p.length()];
    ByteBuffer.wrap(data).putInt(MAGIC).putInt(p.index()).putLong(p.length());
    for (int i = HEADER; i < data.length; i++) {
      data[i] = expected(p.index(), i);
    }
    if (p.mode() == Mode.BLOCKING) {
      OutputStream out = s.outputStream();
      int off = 0;
      for (int c : p.chunks()) {
        out.write(data, off, c);
        off += c;
      }
      Kit.await(s.closeWrite(), "closeWrite after the blocking writes of " + p.describe());
    } else {
      ArrayDeque<CompletableFuture<Void>> inFlight = new ArrayDeque<>();
      int off = 0;
      for (int c : p.chunks()) {
        if (inFlight.size() >= p.inFlight()) {
          Kit.await(inFlight.poll(), "a write of " + p.describe());
        }
        inFlight.add(s.write(ByteBuffer.wrap(data, off, c)));
        off += c;
      }
      CompletableFuture<Void> closed = s.closeWrite(); // at once: the FIN queues behind the writes in flight
      for (CompletableFuture<Void> f : inFlight) {
        Kit.await(f, "a write of " + p.describe());
      }
      Kit.await(closed, "closeWrite behind the writes in flight of " + p.describe());
    }
    if (!Kit.await(verdicts.get(p.index()), "the peer reading " + p.describe() + " to its end")) {
      return; // the verifier recorded what went wrong and reset the stream
    }
    StreamState end = Kit.await(s.terminated(), "the writing end of " + p.describe() + " ending (the peer closes too)");
    if (end != StreamState.CLOSED) {
      failed(p.describe() + ": the writing end ended " + end + ", not CLOSED");
    }
  }

  private byte expected(int stream, int offset) {
    return pattern[(int) ((offset + 7919L * stream) % pattern.length)];
  }

  private static String tail(int[] chunks) {
    StringBuilder sb = new StringBuilder();
    for (int i = Math.max(0, chunks.length - 3); i < chunks.length; i++) {
      sb.append(sb.length() == 0 ? "" : ", ").append(chunks[i]);
    }
    return sb.toString();
  }

  /** Reads one accepted stream to its end, checking every byte as it arrives; then closes its own side. */
  private final class Verifier {
    private final MuxedStream s;
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    private final ByteBuffer header = ByteBuffer.allocate(HEADER);
    private Plan plan;
    private long offset;
    private String problem;

    Verifier(MuxedStream s) {
      this.s = s;
    }

    void next() {
      ByteBuffer dst = plan == null ? header : buf.clear(); // a header cut short keeps what arrived
      s.read(dst).whenComplete((n, err) -> {
        try {
          if (err != null) {
            finish("its read failed after " + offset + " bytes: " + err);
          } else if (n < 0) {
            finish(plan == null ? "end-of-stream after " + offset + " bytes, inside the kit's header"
                : offset == plan.length() ? null
                : "end-of-stream after " + offset + " of " + plan.length() + " bytes: the last "
                    + (plan.length() - offset) + " bytes never arrived");
          } else if (plan == null) {
            offset += n;
            if (header.hasRemaining()) {
              next();
            } else if (parseHeader(header.flip())) {
              next();
            } else {
              finish(problem);
            }
          } else if (check(buf.flip())) {
            next();
          } else {
            finish(problem);
          }
        } catch (RuntimeException e) {
          finish("the kit's verifier failed: " + e);
        }
      });
    }

    private boolean check(ByteBuffer got) {
      int n = got.remaining();
      for (int i = 0; i < n; i++) {
        long at = offset + i;
        if (at >= plan.length()) {
          problem = "more bytes than the " + plan.length() + " written (at offset " + at + ")";
          return false;
        }
        if (got.get(i) != expected(plan.index(), (int) at)) {
          problem = "the byte at offset " + at + " of " + plan.length() + " is not the one written there "
              + "(bytes lost, repeated or reordered)";
          return false;
        }
      }
      offset += n;
      bytesChecked.addAndGet(n);
      return true;
    }

    private boolean parseHeader(ByteBuffer h) {
      int magic = h.getInt();
      int index = h.getInt();
      long length = h.getLong();
      if (magic != MAGIC || index < 0 || index >= plans.size() || plans.get(index).length() != length) {
        problem = "an accepted stream does not start with the header the kit wrote (magic " + Integer.toHexString(magic)
            + ", stream " + index + ", length " + length + "): its first bytes were lost or reordered";
        return false;
      }
      plan = plans.get(index);
      bytesChecked.addAndGet(HEADER);
      return true;
    }

    private void finish(String failure) {
      if (failure == null) {
        s.closeWrite();
        verdicts.get(plan.index()).complete(true);
        return;
      }
      String what = plan == null ? "an accepted stream " + s : plan.describe();
      failed(what + ": " + failure);
      s.reset(0);
      if (plan != null) {
        verdicts.get(plan.index()).complete(false); // the failure is recorded; the writer need not wait
      }
    }
  }
}
