package dev.braid.transport.quic.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.quic.QuicTransportProvider;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tech.kwik.core.impl.QuicClientConnectionImpl;

/**
 * kwik aborts a connection after an internal fault of its own (its sender thread died on the {@code SendBuffer} race,
 * README) without telling its ConnectionListener. Braid must still end the connection FAILED, never leave it looking
 * open with its operations hanging. Here kwik's own {@code abortConnection} is called, as its sender thread does.
 */
class QuicKwikAbortTest {

  @Test
  void aConnectionKwikAbortsEndsFailed() throws Exception {
    Transport server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Transport client = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    try {
      Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> accepted = listener.accept();
      Connection c = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
      accepted.get(20, TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
      CompletableFuture<Integer> pendingRead = s.read(ByteBuffer.allocate(1));
      QuicClientConnectionImpl kwik = (QuicClientConnectionImpl) ((QuicConnection) c).kwik();
      kwik.abortConnection(new NullPointerException("simulated: Cannot invoke \"java.nio.ByteBuffer.remaining()\""));
      Throwable end = c.closeFuture().handle((v, t) -> t).get(10, TimeUnit.SECONDS);
      Throwable cause = end instanceof java.util.concurrent.CompletionException ? end.getCause() : end;
      ConnectionFailedException f = assertInstanceOf(ConnectionFailedException.class, cause);
      assertTrue(f.getMessage().contains("kwik aborted"), f.getMessage());
      assertEquals(StreamState.FAILED, s.terminated().get(10, TimeUnit.SECONDS));
      ExecutionException e = assertThrows(ExecutionException.class, () -> pendingRead.get(10, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, e.getCause());
      ExecutionException open = assertThrows(ExecutionException.class, () -> c.openStream().get(10, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, open.getCause());
    } finally {
      client.close();
      server.close();
    }
  }
}
