package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Transport close frees every thread; a peer that vanishes ends in a FAILED connection, never a hang. */
class QuicLifecycleTest {

  @Test
  void transportCloseFreesItsThreadsAndKwiksThreads() throws Exception {
    Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
    Transport server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Transport client = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
    CompletableFuture<Connection> a = listener.accept();
    Connection c = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
    Connection accepted = a.get(20, TimeUnit.SECONDS);
    for (int i = 0; i < 20; i++) {
      MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[1000])).get(20, TimeUnit.SECONDS);
      MuxedStream r = accepted.acceptStream().get(20, TimeUnit.SECONDS);
      QuicInteropTest.readExactly(r, 1000);
    }
    client.close();
    server.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<String> left;
    do {
      left = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> !before.contains(t) && t.isAlive())
          .filter(t -> !t.getName().startsWith("braid-events-")) // the API's shared listener pool idles out by itself
          .map(Thread::getName).sorted().collect(Collectors.toList());
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    assertEquals(List.of(), left, "threads still alive 30 s after Transport.close()");
  }

  @Test
  void vanishedPeerFailsEveryStreamWithAClearCause() throws Exception {
    TransportOptions options = TransportOptions.builder().idleTimeout(Duration.ofSeconds(2)).build();
    Transport braid = new QuicTransportProvider().create(options);
    NettyQuicPeer netty = NettyQuicPeer.server();
    try {
      Connection c = braid.dial(netty.braidAddress()).get(20, TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {1})).get(20, TimeUnit.SECONDS);
      netty.accept();
      CompletableFuture<Integer> pendingRead = s.read(ByteBuffer.allocate(10));
      netty.close(); // the peer's socket is gone: no CONNECTION_CLOSE reaches us
      assertEquals(StreamState.FAILED, s.terminated().get(60, TimeUnit.SECONDS));
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> pendingRead.get(5, TimeUnit.SECONDS));
      ConnectionFailedException f = assertInstanceOf(ConnectionFailedException.class, e.getCause());
      // kwik reports the silence as IdleTimeout, or as ConnectionLost when our last packets went unanswered
      String why = f.getMessage() + " / " + f.getCause();
      assertTrue(why.contains("idle timeout") || why.contains("connection lost"), why);
      assertTrue(!c.isOpen());
    } finally {
      braid.close();
    }
  }
}
