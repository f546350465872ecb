package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.tcp.TcpOptions;
import dev.braid.transport.tcp.TcpTransportProvider;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Receive-window auto-tuning end to end, over loopback TCP: windows grow while the application keeps up, within the
 * connection's budget; a reader that then stalls holds at most {@code streams × receiveWindow + budget} bytes; and
 * the growth returns to the budget when the streams end.
 *
 * <p>Growth depends on the round-trip time. To make it certain rather than a matter of how fast this machine is, the
 * test waits for the session's own first ping (sent with its first stream) to be answered and then tells the tuner the round trip is 10 s: every
 * window update then comes "within four round trips". Keep-alive pings are off, so nothing measures it again.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WindowTuningTest {
  private static final int BASE = 256 * 1024;
  private static final int MAX = 4 * BASE;
  private static final long BUDGET = 5L * BASE / 2; // 2.5 base windows: some streams must stay at the base window
  private static final int STREAMS = 8;
  private static final long T = 30;

  private Transport server;
  private Transport client;

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void windowsGrowWithinTheBudgetAStalledReaderHoldsNoMoreAndEndedStreamsGiveTheGrowthBack() throws Exception {
    TransportOptions options = TransportOptions.builder().receiveWindow(BASE)
        .keepAliveInterval(Duration.ZERO)
        .property(TcpOptions.MAX_STREAM_WINDOW.name(), Integer.toString(MAX))
        .property(TcpOptions.WINDOW_BUDGET.name(), Long.toString(BUDGET))
        .build();
    server = new TcpTransportProvider().create(options);
    client = new TcpTransportProvider().create(options);
    Listener listener = server.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> a = listener.accept();
    Connection dialer = client.dial(listener.address()).get(T, TimeUnit.SECONDS);
    TcpConnection reader = (TcpConnection) a.get(T, TimeUnit.SECONDS);
    WindowTuner tuner = reader.windowTuner();

    List<MuxedStream> writers = new ArrayList<>();
    List<TcpMuxedStream> readers = new ArrayList<>();
    byte[] chunk = new byte[64 * 1024];
    for (int i = 0; i < STREAMS; i++) {
      MuxedStream w = dialer.openStream().get(T, TimeUnit.SECONDS);
      writers.add(w);
      keepWriting(w, chunk);
      readers.add((TcpMuxedStream) reader.acceptStream().get(T, TimeUnit.SECONDS));
    }
    // The session pinged with its first stream; nothing was read, so no window update has gone out yet.
    await(() -> tuner.rttNanos() > 0, () -> "the session's first ping was answered");
    tuner.rtt(TimeUnit.SECONDS.toNanos(10));
    // The application keeps up for 4 MiB per stream: windows grow while the budget lasts.
    ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
    for (TcpMuxedStream r : readers) {
      long read = 0;
      while (read < 4 * MAX) {
        sink.clear();
        read += r.read(sink).get(T, TimeUnit.SECONDS);
      }
    }
    long windows = readers.stream().mapToLong(r -> r.wire().window()).sum();
    assertTrue(windows > (long) STREAMS * BASE, "some window grew: " + describe(readers, tuner));
    assertTrue(readers.stream().anyMatch(r -> r.wire().window() == BASE),
        "the budget ran out before every stream grew: " + describe(readers, tuner));

    // The application stops reading; the writers go on. Once every stream's granted window is used up, what the
    // reader holds is bounded by the windows, and so by the base windows plus the budget.
    await(() -> readers.stream().allMatch(r -> r.wire().receivable() == 0),
        () -> "the writers used up every window: " + describe(readers, tuner));
    long held = readers.stream().mapToLong(TcpMuxedStream::buffered).sum();
    long bound = (long) STREAMS * BASE + BUDGET;
    assertTrue(held <= bound, "a stalled reader holds " + held + " bytes, more than " + STREAMS + " x " + BASE
        + " + the budget " + BUDGET + ": " + describe(readers, tuner));
    for (TcpMuxedStream r : readers) {
      assertTrue(r.wire().window() <= MAX, "a window above the maximum: " + describe(readers, tuner));
      assertTrue(r.buffered() <= r.wire().window(), "a stream holds more than its window: " + describe(readers, tuner));
    }
    assertTrue(readers.stream().mapToLong(r -> r.wire().window()).sum() >= windows, "no window shrank");

    // The streams end: their growth goes back to the budget.
    writers.forEach(w -> w.reset(1));
    await(() -> tuner.budgetLeft() == BUDGET, () -> "every stream's growth returned: " + describe(readers, tuner));
  }

  /** Writes {@code chunk} over and over until a write fails (the stream was reset). */
  private static void keepWriting(MuxedStream w, byte[] chunk) {
    w.write(ByteBuffer.wrap(chunk)).whenComplete((ok, err) -> {
      if (err == null) {
        keepWriting(w, chunk);
      }
    });
  }

  private static String describe(List<TcpMuxedStream> readers, WindowTuner tuner) {
    StringBuilder b = new StringBuilder("budget left " + tuner.budgetLeft() + " of " + tuner.budget() + ";");
    for (TcpMuxedStream r : readers) {
      b.append(" [").append(r.id()).append(" window ").append(r.wire().window()).append(" buffered ")
          .append(r.buffered()).append(" receivable ").append(r.wire().receivable()).append(']');
    }
    return b.toString();
  }

  private static void await(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(T);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + T + " s waiting for: " + what.get());
      }
      Thread.sleep(5);
    }
  }
}
