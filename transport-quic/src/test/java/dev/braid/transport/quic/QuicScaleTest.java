package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Many open, idle streams on one connection cost memory but no threads: the number of live threads with N open
 * streams is the same as with 10. Prints the threads and the heap per stream (both ends in this JVM); no
 * timing assertions.
 */
class QuicScaleTest {

  @Test
  void thousandIdleStreamsAddNoThreads() throws Exception {
    measure(1_000);
  }

  @Test
  @Tag("stress")
  void tenThousandIdleStreamsAddNoThreads() throws Exception {
    measure(10_000);
  }

  /** Opens {@code n} streams, each with one byte sent each way, and leaves them open and idle. */
  static Measurement measure(int n) throws Exception {
    TransportOptions options = TransportOptions.builder().maxStreams(n + 100).maxPendingInboundStreams(n + 100).build();
    Transport server = new QuicTransportProvider().create(options);
    Transport client = new QuicTransportProvider().create(options);
    try {
      Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> a = listener.accept();
      Connection dialer = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
      Connection accepted = a.get(20, TimeUnit.SECONDS);
      List<MuxedStream> local = new ArrayList<>();
      List<MuxedStream> remote = new ArrayList<>();
      open(dialer, accepted, 10, local, remote);
      settle();
      int threadsAt10 = Thread.activeCount();
      long heapAt10 = usedHeap();
      long t0 = System.nanoTime();
      open(dialer, accepted, n - 10, local, remote);
      long openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      settle();
      int threadsAtN = Thread.activeCount();
      // pooled threads that served the burst idle out after 2 s; on a loaded machine give them up to 15 s more
      for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
          threadsAtN - threadsAt10 > 4 && System.nanoTime() < deadline; threadsAtN = Thread.activeCount()) {
        Thread.sleep(250);
      }
      long heapAtN = usedHeap();
      assertEquals(n, dialer.streams().size());
      assertEquals(n, accepted.streams().size());
      Measurement m = new Measurement(n, threadsAt10, threadsAtN, (heapAtN - heapAt10) / (n - 10), openMillis);
      System.out.println("QUIC scale: " + m);
      assertTrue(threadsAtN - threadsAt10 <= 4, "threads grew with streams: " + m);
      // every stream still works
      MuxedStream last = local.get(local.size() - 1);
      last.write(ByteBuffer.wrap(new byte[] {9})).get(20, TimeUnit.SECONDS);
      ByteBuffer one = ByteBuffer.allocate(1);
      MuxedStream peer = remote.stream().filter(r -> r.id() == last.id()).findFirst().orElseThrow();
      peer.read(one).get(20, TimeUnit.SECONDS);
      assertEquals(9, one.get(0));
      return m;
    } finally {
      client.close();
      server.close();
    }
  }

  static void open(Connection dialer, Connection accepted, int count, List<MuxedStream> local, List<MuxedStream> remote)
      throws Exception {
    List<CompletableFuture<MuxedStream>> opens = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      opens.add(dialer.openStream());
    }
    for (CompletableFuture<MuxedStream> f : opens) {
      MuxedStream s = f.get(60, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {1}));
      local.add(s);
    }
    for (int i = 0; i < count; i++) {
      MuxedStream r = accepted.acceptStream().get(60, TimeUnit.SECONDS);
      ByteBuffer one = ByteBuffer.allocate(1);
      r.read(one).get(60, TimeUnit.SECONDS);
      r.write(ByteBuffer.wrap(new byte[] {2}));
      remote.add(r);
    }
    for (MuxedStream s : local) {
      if (s.bytesRead() == 0) {
        s.read(ByteBuffer.allocate(1)).get(60, TimeUnit.SECONDS);
      }
    }
  }

  private static void settle() throws InterruptedException {
    Thread.sleep(3_000); // let pooled threads that served the burst idle out (keep-alive 2 s)
  }

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** What one run measured. */
  record Measurement(int streams, int threadsAt10, int threadsAtN, long heapBytesPerStreamPair, long openMillis) {
    @Override
    public String toString() {
      return streams + " open streams: " + threadsAt10 + " threads with 10 streams, " + threadsAtN + " with "
          + streams + "; heap per stream (both ends) " + heapBytesPerStreamPair + " bytes; opening " + (streams - 10)
          + " (open, 1 byte each way) took " + openMillis + " ms";
    }
  }
}
