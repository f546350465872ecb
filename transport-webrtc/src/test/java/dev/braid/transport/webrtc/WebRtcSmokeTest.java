package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WebRtcSmokeTest {
  @Test
  void dialOpenWriteHalfCloseRead() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    assertTrue(p.isAvailable(), () -> String.valueOf(p.unavailabilityCause()));
    try (Transport a = p.create(TransportOptions.DEFAULTS); Transport b = p.create(TransportOptions.DEFAULTS)) {
      Listener l = b.listen(p.testListenAddress());
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = acc.get(20, TimeUnit.SECONDS);
      byte[] data = new byte[3_000_000];
      new Random(1).nextBytes(data);
      MuxedStream out = d.openStream().get(10, TimeUnit.SECONDS);
      assertEquals(StreamState.OPEN, out.state());
      CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
        try {
          MuxedStream in = s.acceptStream().get(10, TimeUnit.SECONDS);
          InputStream is = in.inputStream();
          byte[] all = is.readAllBytes();
          OutputStream os = in.outputStream();
          os.write("pong".getBytes());
          os.close();
          return all;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      OutputStream os = out.outputStream();
      os.write(data);
      os.close();
      assertArrayEquals(data, got.get(30, TimeUnit.SECONDS));
      assertEquals("pong", new String(out.inputStream().readAllBytes()));
      assertEquals(StreamState.CLOSED, out.terminated().get(10, TimeUnit.SECONDS));
      d.close();
      d.closeFuture().get(10, TimeUnit.SECONDS);
      s.closeFuture().handle((v, e) -> null).get(10, TimeUnit.SECONDS);
      l.close();
    }
  }
}
