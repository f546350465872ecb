package dev.braid.conformance;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Rule N7, churn without leaks (after go-libp2p's muxer suite): 10,000 streams opened, used (a message each
 * way), closed from both ends and ended on one connection; afterwards, once the heap has settled after full
 * collections, the heap retained per closed stream stays under {@link #BOUND_PER_STREAM} bytes and no thread
 * the churn started is left. The measured figure is printed, so the matrix log shows it for every transport.
 * {@code -Dbraid.churn.streams=N} changes the count; {@code -Dbraid.churn.histograms=DIR} writes class histograms
 * of the heap before and after, to find what a leak keeps.
 */
final class ChurnRun {
  /** System property: how many streams the churn opens and closes (default 10,000). */
  static final String STREAMS_PROPERTY = "braid.churn.streams";
  /** Heap a closed stream may leave behind, on average, in bytes. */
  static final long BOUND_PER_STREAM = 512;
  private static final int WARM_UP = 500;
  private static final int IN_FLIGHT = 32;

  private final ConnectionPair pair;
  private final ExecutorService pool;
  private final Set<String> sharedThreads;

  ChurnRun(ConnectionPair pair, ExecutorService pool, Set<String> sharedThreads) {
    this.pair = pair;
    this.pool = pool;
    this.sharedThreads = sharedThreads;
  }

  void run() throws Exception {
    AtomicReference<Throwable> echoFailure = new AtomicReference<>();
    for (Connection c : List.of(pair.dialer(), pair.listener())) {
      c.setStreamHandler(s -> Kit.readAllAsync(s, 1024)
          .thenCompose(in -> s.write(ByteBuffer.wrap(in)))
          .thenCompose(v -> s.closeWrite())
          .whenComplete((v, t) -> {
            if (t != null) {
              echoFailure.compareAndSet(null, t);
            }
          }));
    }
    int streams = Integer.getInteger(STREAMS_PROPERTY, 10_000);
    churn(WARM_UP, echoFailure); // classes loaded, pools and caches at their steady size
    settle();
    histogram("before");
    long before = usedHeap();
    Set<Thread> threadsBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
    churn(streams, echoFailure);
    for (Connection c : List.of(pair.dialer(), pair.listener())) {
      Kit.eventually(() -> c.streams().isEmpty(), "N7: all " + streams + " ended streams leave " + c
          + "'s list (left: " + c.streams().size() + ")");
    }
    Kit.eventually(() -> newThreads(threadsBefore).isEmpty(), "N7: no thread started during the churn is left "
        + "(left: " + newThreads(threadsBefore) + ")");
    settle();
    histogram("after");
    long after = usedHeap();
    long perStream = Math.max(0, after - before) / streams;
    String line = pair.dialer().transportId() + " N7: " + streams + " streams opened, used and closed; heap retained "
        + "afterwards: " + Math.max(0, after - before) + " bytes, " + perStream + " bytes per closed stream (bound "
        + BOUND_PER_STREAM + ")";
    System.getLogger(ChurnRun.class.getName()).log(System.Logger.Level.INFO, line);
    System.out.println("[churn] " + line);
    if (perStream > BOUND_PER_STREAM) {
      throw new AssertionError("N7: " + perStream + " bytes of heap per closed stream are still retained after "
          + streams + " streams ended (bound " + BOUND_PER_STREAM + "): check what keeps ended streams reachable "
          + "(a map of stream ids, a per-stream timer or listener, the protocol library's own stream table); a heap "
          + "dump after this rule shows whose it is");
    }
  }

  private Set<String> newThreads(Set<Thread> before) {
    Set<String> names = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && !before.contains(t) && !t.getName().startsWith("braid-kit-")
          && !t.getName().startsWith("braid-events-") && !t.getName().startsWith("ForkJoinPool.commonPool")
          && sharedThreads.stream().noneMatch(t.getName()::startsWith)) {
        names.add(t.getName());
      }
    }
    return names;
  }

  /** Opens {@code n} streams (alternating ends), a message each way, both ends closed, each waited to its end. */
  private void churn(int n, AtomicReference<Throwable> echoFailure) throws Exception {
    Semaphore slots = new Semaphore(IN_FLIGHT);
    List<CompletableFuture<Void>> tail = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!slots.tryAcquire(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("N7: no stream of the churn ended within " + Kit.waitLimit().toSeconds() + " s ("
            + i + " of " + n + " opened)" + (echoFailure.get() != null ? "; the echo failed: " + echoFailure.get() : ""));
      }
      Connection opener = i % 2 == 0 ? pair.dialer() : pair.listener();
      byte[] msg = ("churn-" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      CompletableFuture<Void> done = opener.openStream()
          .thenCompose(s -> s.write(ByteBuffer.wrap(msg))
              .thenCompose(v -> s.closeWrite())
              .thenCompose(v -> Kit.readAllAsync(s, msg.length))
              .thenCompose(echo -> {
                if (!java.util.Arrays.equals(msg, echo)) {
                  return CompletableFuture.failedFuture(new AssertionError("N7: stream " + s + " echoed "
                      + echo.length + " bytes, not the " + msg.length + " written"));
                }
                return s.terminated();
              })
              .thenAccept(end -> {
                if (end != StreamState.CLOSED) {
                  throw new AssertionError("N7: stream " + s + " ended " + end + ", not CLOSED");
                }
              }))
          .whenComplete((v, t) -> slots.release());
      tail.add(done);
      if (tail.size() >= 4 * IN_FLIGHT) {
        Kit.await(tail.remove(0), "N7: a churned stream (open, echo, close)");
      }
    }
    for (CompletableFuture<Void> d : tail) {
      Kit.await(d, "N7: a churned stream (open, echo, close)");
    }
    if (echoFailure.get() != null) {
      throw new AssertionError("N7: the echoing end failed", echoFailure.get());
    }
  }

  /**
   * With {@code -Dbraid.churn.histograms=DIR}, writes the heap's class histogram before and after the churn to
   * {@code DIR/churn-before.txt} and {@code DIR/churn-after.txt} (with the JDK's {@code jcmd}): the classes whose
   * count grew by the number of streams are what a leak keeps.
   */
  private static void histogram(String when) {
    String dir = System.getProperty("braid.churn.histograms");
    if (dir == null || dir.isBlank()) {
      return;
    }
    java.io.File out = new java.io.File(dir, "churn-" + when + ".txt");
    try {
      Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          String.valueOf(ProcessHandle.current().pid()), "GC.class_histogram").redirectOutput(out)
          .redirectErrorStream(true).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (java.io.IOException e) {
      System.getLogger(ChurnRun.class.getName()).log(System.Logger.Level.WARNING, "N7: no class histogram: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  /** Full collections until the used heap stops shrinking (bounded), so that only reachable objects are counted. */
  private static void settle() {
    long last = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      long now = usedHeap();
      if (now >= last - 64 * 1024) {
        return;
      }
      last = now;
    }
  }
}
