package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.webrtc.internal.WebRtcConnection;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * libwebrtc's hard limit of 1,024 SCTP stream ids per peer connection: 500 concurrent streams each
 * carry their own bytes; opens beyond {@link WebRtcConnection#MAX_LOCAL_CHANNELS} are refused cleanly
 * (never the JVM abort webrtc-java 0.14.0 produces when {@code createDataChannel} fails); a stream
 * that ended frees its id for a new one, and the connection stays usable throughout.
 */
class WebRtcLimitsTest {
  @Test
  void fiveHundredConcurrentStreamsThenCleanRefusalAndReuse() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    try (Transport a = p.create(TransportOptions.DEFAULTS); Transport b = p.create(TransportOptions.DEFAULTS)) {
      Listener l = b.listen(p.testListenAddress());
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = acc.get(20, TimeUnit.SECONDS);
      s.setStreamHandler(st -> {
        ByteBuffer buf = ByteBuffer.allocate(256);
        st.read(buf).thenCompose(n -> {
          buf.flip();
          return st.write(buf);
        }).thenCompose(v -> st.closeWrite());
      });
      List<MuxedStream> streams = new ArrayList<>();
      List<CompletableFuture<MuxedStream>> opens = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        opens.add(d.openStream());
      }
      for (CompletableFuture<MuxedStream> o : opens) {
        streams.add(o.get(30, TimeUnit.SECONDS));
      }
      List<CompletableFuture<Void>> echoes = new ArrayList<>();
      for (int i = 0; i < streams.size(); i++) {
        MuxedStream st = streams.get(i);
        byte[] msg = ("stream-" + i).getBytes(StandardCharsets.US_ASCII);
        echoes.add(st.write(ByteBuffer.wrap(msg)).thenRun(() -> {
          ByteBuffer in = ByteBuffer.allocate(msg.length);
          while (in.hasRemaining()) {
            if (st.read(in).join() < 0) {
              break;
            }
          }
          assertArrayEquals(msg, in.array(), "echo on " + st);
        }));
      }
      for (CompletableFuture<Void> e : echoes) {
        e.get(60, TimeUnit.SECONDS);
      }
      // Up to the limit, then refusals.
      List<MuxedStream> more = new ArrayList<>();
      int refused = 0;
      for (int i = 0; i < 20; i++) {
        try {
          more.add(d.openStream().get(20, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          assertInstanceOf(StreamRefusedException.class, e.getCause());
          assertTrue(e.getCause().getMessage().contains("SCTP"), e.getCause().getMessage());
          refused++;
        }
      }
      assertEquals(WebRtcConnection.MAX_LOCAL_CHANNELS, streams.size() + more.size(), "opens up to the limit succeed");
      assertEquals(20 - more.size(), refused);
      assertTrue(d.isOpen() && s.isOpen(), "the connection stays usable");
      // End one stream fully (both ways): its channel closes and its id becomes free again.
      MuxedStream first = streams.get(0);
      first.close();
      assertEquals(StreamState.CLOSED, first.terminated().get(20, TimeUnit.SECONDS));
      MuxedStream again = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (again == null && System.nanoTime() < deadline) {
        try {
          again = d.openStream().get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          assertInstanceOf(StreamRefusedException.class, e.getCause());
          Thread.sleep(50);
        }
      }
      assertTrue(again != null, "a freed SCTP id is reused for a new stream");
      again.write(ByteBuffer.wrap("x".getBytes(StandardCharsets.US_ASCII))).get(20, TimeUnit.SECONDS);
      d.close();
      d.closeFuture().get(20, TimeUnit.SECONDS);
      l.close();
    }
  }
}
