package dev.braid.examples;

import dev.braid.Braid;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.TransportUnavailableException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A request/response service on many concurrent streams of one connection, written with the asynchronous API: no
 * thread per stream, no blocking call in any continuation.
 *
 * <pre>
 * EchoService server URI        listens on URI, prints "listening on ADDRESS", answers every stream until stopped
 * EchoService client ADDRESS    opens --streams N (default 64) streams at once, sends one request on each, checks
 *                               every answer and prints a summary: count, errors, latency percentiles
 * </pre>
 *
 * <p><b>One exchange</b> is one stream: the client opens it, writes its request (random bytes of a random length up to
 * {@code --size}, from {@code --seed}) and half-closes (closeWrite); the server echoes every byte back as it arrives
 * and, when it reads the client's end-of-stream, half-closes too, which ends the stream in both directions. The client
 * reads while it writes (so a request larger than the flow-control windows cannot deadlock), and checks that the
 * answer is exactly the request.
 *
 * <p><b>Threads.</b> Every step is a continuation of a Braid future: Braid runs those on its event threads (never on a
 * transport's I/O thread), only while there is work, so 64 or 4,000 streams need no more threads than a handful.
 * {@link AsyncLoop} repeats read-then-write without recursing when a read completes at once. A failure of one stream
 * resets that stream and is counted; it never escapes to a Braid or transport thread.
 *
 * <p>Exit codes: the client returns 0 when every answer was right, 1 otherwise (or when the server is unreachable), 2
 * for bad input. The server runs until it is stopped (Ctrl-C, or an interrupt of the thread that called
 * {@link #run}) and then returns 0.
 */
public final class EchoService {
  /** Reset code: the server could not answer this stream. */
  static final long CODE_SERVER_ERROR = 1;
  /** Reset code: the client gave up on this stream (a wrong answer, a failed write, or its timeout). */
  static final long CODE_CLIENT_GAVE_UP = 2;

  static final String USAGE = String.join("\n",
      "usage: EchoService server URI      [--transport ID]",
      "       EchoService client ADDRESS  [--streams N] [--size BYTES] [--seed N] [--timeout S] [--transport ID]",
      "  server listens on URI (e.g. tcp://127.0.0.1:4001, quic://127.0.0.1:0, webrtc://10.0.0.5:0), prints",
      "  'listening on ADDRESS' and echoes every stream until stopped; client opens N concurrent streams to ADDRESS",
      "  (default 64), each with one request of 1..BYTES random bytes (default 4096), and checks every answer.");

  private static final int ECHO_BUFFER = 16 * 1024;
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private EchoService() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the command line {@code args}: results on {@code out} (the server's first line is
   * {@code listening on ADDRESS}), errors on {@code err}. Returns the exit code; a server returns when the calling
   * thread is interrupted.
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      Args a = Args.parse(args, Set.of("--transport", "--streams", "--size", "--seed", "--timeout"), Set.of());
      if (a.positional().size() != 2) {
        throw new UsageException(a.positional().isEmpty() ? "no command" : "expected 2 arguments, got "
            + a.positional().size() + ": " + a.positional());
      }
      URI uri = Endpoints.parse(a.positional().get(1));
      switch (a.positional().get(0)) {
        case "server":
          return server(uri, a.option("--transport"), out, err);
        case "client":
          long seed = a.option("--seed") != null ? a.longOption("--seed", 0, Long.MIN_VALUE, Long.MAX_VALUE)
              : ThreadLocalRandom.current().nextLong();
          return client(uri, a.option("--transport"), (int) a.longOption("--streams", 64, 1, 100_000),
              (int) a.longOption("--size", 4096, 1, 64 * 1024 * 1024), seed, a.seconds("--timeout", DEFAULT_TIMEOUT),
              out, err);
        default:
          throw new UsageException("unknown command '" + a.positional().get(0) + "' (server or client)");
      }
    } catch (UsageException e) {
      err.println("EchoService: " + e.getMessage());
      err.println(USAGE);
      return Exit.USAGE;
    }
  }

  // ---------------------------------------------------------------- server

  private static int server(URI uri, String transport, PrintStream out, PrintStream err) {
    try (Braid braid = Endpoints.braid(transport, DEFAULT_TIMEOUT)) {
      Listener listener;
      try {
        listener = braid.listen(uri);
      } catch (TransportUnavailableException | IllegalArgumentException e) {
        err.println("EchoService: cannot listen on " + uri + ": " + e.getMessage());
        return Exit.USAGE;
      } catch (IOException e) {
        err.println("EchoService: cannot listen on " + uri + ": " + Errors.describe(e));
        return Exit.FAILED;
      }
      try (Listener l = listener) {
        out.println("listening on " + l.address());
        out.flush();
        while (true) {
          Connection c;
          try {
            c = l.accept().get(); // interrupting this thread stops the server
          } catch (ExecutionException e) {
            err.println("EchoService: accepting a connection failed: " + Errors.describe(e));
            return Exit.FAILED;
          }
          serve(c, out, err);
        }
      }
    } catch (TransportUnavailableException e) {
      err.println("EchoService: " + e.getMessage());
      return Exit.USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.println("server stopped");
      return Exit.OK;
    }
  }

  /** Echoes every stream of {@code c}; prints one line when the connection ends. Returns at once. */
  private static void serve(Connection c, PrintStream out, PrintStream err) {
    URI peer = c.remoteAddress();
    out.println("connection from " + peer);
    AtomicInteger answered = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    // The handler runs on a Braid event thread, one stream at a time per connection: it only starts the stream's
    // echo loop, which goes on in continuations.
    c.setStreamHandler(stream -> echo(stream).whenComplete((v, failure) -> {
      if (failure == null) {
        answered.incrementAndGet();
      } else {
        failed.incrementAndGet();
        stream.reset(CODE_SERVER_ERROR); // a no-op if the stream already ended (say, the client reset it)
        err.println("EchoService: stream " + stream.id() + " from " + peer + " failed: " + Errors.describe(failure));
      }
    }));
    c.closeFuture().whenComplete((v, failure) -> out.println("connection from " + peer + " ended"
        + (failure == null ? "" : " (" + Errors.describe(failure) + ")") + ": " + answered.get() + " streams answered, "
        + failed.get() + " failed"));
  }

  /**
   * Echoes {@code stream} until the client's end-of-stream, then half-closes. Completes when the answer is sent, or
   * exceptionally with the failure.
   */
  static CompletableFuture<Void> echo(MuxedStream stream) {
    ByteBuffer buf = ByteBuffer.allocate(ECHO_BUFFER);
    return AsyncLoop.run(() -> {
      buf.clear();
      return stream.read(buf).thenCompose(n -> {
        if (n < 0) {
          return stream.closeWrite().thenApply(v -> false); // the request ended: so does the answer
        }
        buf.flip();
        return stream.write(buf).thenApply(v -> true); // the next read only after the write: backpressure
      });
    });
  }

  // ---------------------------------------------------------------- client

  private static int client(URI uri, String transport, int streams, int maxSize, long seed, Duration timeout,
      PrintStream out, PrintStream err) {
    Random random = new Random(seed);
    byte[][] requests = new byte[streams][];
    long requestBytes = 0;
    for (int i = 0; i < streams; i++) {
      requests[i] = new byte[1 + random.nextInt(maxSize)];
      random.nextBytes(requests[i]);
      requestBytes += requests[i].length;
    }
    try (Braid braid = Endpoints.braid(transport, timeout)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      Connection connection;
      try {
        connection = braid.dial(uri).get(timeout.toSeconds() + 5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        Throwable cause = Errors.unwrap(e);
        err.println("EchoService: " + Errors.dialFailure(uri, cause));
        return cause instanceof TransportUnavailableException ? Exit.USAGE : Exit.FAILED;
      } catch (TimeoutException e) {
        err.println("EchoService: cannot connect to " + uri + ": no connection within " + timeout.toSeconds() + " s");
        return Exit.FAILED;
      }
      try (Connection c = connection) {
        return exchangeAll(c, uri, requests, requestBytes, seed, deadline, timeout, out, err);
      }
    } catch (TransportUnavailableException e) {
      err.println("EchoService: " + e.getMessage());
      return Exit.USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("EchoService: interrupted");
      return Exit.FAILED;
    }
  }

  private static int exchangeAll(Connection c, URI uri, byte[][] requests, long requestBytes, long seed, long deadline,
      Duration timeout, PrintStream out, PrintStream err) throws InterruptedException {
    int n = requests.length;
    long start = System.nanoTime();
    // 1. Open every stream at once, so that all N are open together before the first request goes out.
    List<CompletableFuture<MuxedStream>> opens = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      opens.add(c.openStream());
    }
    awaitAll(opens, deadline);
    long opened = System.nanoTime();
    // 2. One exchange per stream, all in flight together; each completes with its latency in nanoseconds.
    List<CompletableFuture<Long>> exchanges = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] request = requests[i];
      exchanges.add(opens.get(i).thenCompose(stream -> exchange(stream, request)));
    }
    boolean timedOut = !awaitAll(exchanges, deadline);
    String[] stuck = new String[n];
    if (timedOut) {
      // Give up on what is left: resetting a stream fails its pending read and write at once. First note how far
      // each one got, which tells a lost request from a lost answer.
      for (int i = 0; i < n; i++) {
        if (opens.get(i).isDone() && !opens.get(i).isCompletedExceptionally() && !exchanges.get(i).isDone()) {
          MuxedStream s = opens.get(i).join();
          stuck[i] = String.format(Locale.ROOT, "no answer within %d s: %d of %d request bytes sent, %d answer bytes "
              + "received, stream %s", timeout.toSeconds(), s.bytesWritten(), requests[i].length, s.bytesRead(),
              s.state());
          s.reset(CODE_CLIENT_GAVE_UP);
        }
      }
      awaitAll(exchanges, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
    }
    long end = System.nanoTime();
    long[] latencies = new long[n];
    int ok = 0;
    List<String> errors = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CompletableFuture<Long> x = exchanges.get(i);
      if (!x.isDone()) {
        errors.add("stream " + i + ": no answer within " + timeout.toSeconds() + " s, and still pending after a reset");
      } else if (x.isCompletedExceptionally()) {
        errors.add("stream " + i + ": " + (stuck[i] != null ? stuck[i] : failureOf(x)));
      } else {
        latencies[ok++] = x.join();
      }
    }
    for (int i = 0; i < Math.min(errors.size(), 20); i++) {
      err.println("EchoService: " + errors.get(i));
    }
    if (errors.size() > 20) {
      err.println("EchoService: ... and " + (errors.size() - 20) + " more errors");
    }
    long[] sorted = Arrays.copyOf(latencies, ok);
    Arrays.sort(sorted);
    out.println(String.format(Locale.ROOT, "%d requests on %d concurrent streams over %s (seed %d): "
        + "%d answered correctly, %d errors", n, n, uri, seed, ok, errors.size()));
    if (ok > 0) {
      out.println(String.format(Locale.ROOT, "latency (request sent to answer complete): p50 %s, p90 %s, p99 %s, max %s",
          millis(percentile(sorted, 50)), millis(percentile(sorted, 90)), millis(percentile(sorted, 99)),
          millis(sorted[ok - 1])));
    }
    out.println(String.format(Locale.ROOT, "streams opened in %s; %s each way in %s", millis(opened - start),
        Progress.size(requestBytes), millis(end - start)));
    return errors.isEmpty() ? Exit.OK : Exit.FAILED;
  }

  /**
   * Sends {@code request} on {@code stream}, half-closes, and reads the answer at the same time. Completes with the
   * latency in nanoseconds once the answer is complete and equal to the request; otherwise exceptionally, after
   * resetting the stream.
   */
  static CompletableFuture<Long> exchange(MuxedStream stream, byte[] request) {
    long start = System.nanoTime();
    CompletableFuture<Void> sent = stream.write(ByteBuffer.wrap(request)).thenCompose(v -> stream.closeWrite());
    ByteBuffer answer = ByteBuffer.allocate(request.length + 1); // one byte more: an answer too long is caught
    CompletableFuture<Void> received = AsyncLoop.run(() -> {
      if (!answer.hasRemaining()) {
        return CompletableFuture.failedFuture(
            new IOException("the answer is longer than the request (" + request.length + " bytes)"));
      }
      return stream.read(answer).thenApply(n -> n >= 0);
    });
    // Either half failing dooms the exchange: reset at once, so that the other half does not wait for nothing.
    sent.whenComplete((v, failure) -> resetOnFailure(stream, failure));
    received.whenComplete((v, failure) -> resetOnFailure(stream, failure));
    return sent.thenCombine(received, (a, b) -> {
      long latency = System.nanoTime() - start;
      if (answer.position() != request.length
          || !Arrays.equals(answer.array(), 0, request.length, request, 0, request.length)) {
        stream.reset(CODE_CLIENT_GAVE_UP);
        throw new IllegalStateException(answer.position() != request.length
            ? "the answer has " + answer.position() + " bytes, the request " + request.length
            : "the answer differs from the request at byte " + Arrays.mismatch(
                Arrays.copyOf(answer.array(), request.length), request));
      }
      stream.close(); // already closed both ways by now; closing is idempotent
      return latency;
    });
  }

  private static void resetOnFailure(MuxedStream stream, Throwable failure) {
    if (failure != null) {
      stream.reset(CODE_CLIENT_GAVE_UP);
    }
  }

  private static String failureOf(CompletableFuture<?> f) {
    try {
      f.join();
      return "no failure";
    } catch (RuntimeException e) {
      return Errors.describe(e, EchoService::codeName);
    }
  }

  /** What this example's reset codes mean. */
  static String codeName(long code) {
    if (code == CODE_SERVER_ERROR) {
      return "the server could not answer";
    }
    if (code == CODE_CLIENT_GAVE_UP) {
      return "the client gave up";
    }
    return null;
  }

  /** Waits until every future completed (normally or not) or the deadline passed; true if all completed. */
  private static boolean awaitAll(List<? extends CompletableFuture<?>> futures, long deadline)
      throws InterruptedException {
    CompletableFuture<Void> all = CompletableFuture.allOf(futures.stream()
        .map(f -> f.handle((v, e) -> null)).toArray(CompletableFuture[]::new));
    try {
      all.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot happen: every future was made to complete normally", e);
    } catch (TimeoutException e) {
      return false;
    }
  }

  /** The nearest-rank percentile {@code p} of {@code sorted} (not empty). */
  static long percentile(long[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static String millis(long nanos) {
    return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
  }
}
