package dev.braid.transport.quic.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.tls.CertificatePins;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Peers that misbehave, and bad input from the application: garbage datagrams on the listener's port, a raw Netty
 * QUIC client that breaks the mapping (a stream without the preamble), the wrong certificate, the old mapping's ALPN,
 * malformed addresses. The offending stream or connection fails naming the fault; another connection on the same
 * listener carries on; the JVM lives.
 */
@Timeout(120)
class NettyQuicBadInputTest {
  private final NettyQuicTransportProvider provider = new NettyQuicTransportProvider();
  private Transport server;
  private Transport client;
  private Listener listener;
  private Connection good;
  private Connection goodAccepted;

  @BeforeEach
  void start() throws Exception {
    server = provider.create(TransportOptions.DEFAULTS);
    client = provider.create(TransportOptions.DEFAULTS);
    listener = server.listen(URI.create("quic://127.0.0.1:0"));
    CompletableFuture<Connection> a = listener.accept();
    good = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
    goodAccepted = a.get(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  private void assertGoodConnectionWorks() throws Exception {
    CompletableFuture<MuxedStream> in = goodAccepted.acceptStream();
    MuxedStream s = good.openStream().get(20, TimeUnit.SECONDS);
    byte[] msg = "still fine".getBytes(StandardCharsets.US_ASCII);
    s.write(ByteBuffer.wrap(msg)).get(20, TimeUnit.SECONDS);
    s.closeWrite().get(20, TimeUnit.SECONDS);
    MuxedStream r = in.get(20, TimeUnit.SECONDS);
    assertArrayEquals(msg, r.inputStream().readAllBytes());
    s.reset(0);
  }

  @Test
  void garbageDatagramsAreIgnored() throws Exception {
    int port = listener.address().getPort();
    Random random = new Random(7);
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      for (int i = 0; i < 2000; i++) {
        int size = i % 4 == 0 ? 1200 + random.nextInt(300) : 5 + random.nextInt(1500);
        byte[] junk = new byte[size];
        random.nextBytes(junk);
        if (i % 3 == 0) {
          junk[0] = (byte) 0xc0; // looks like a long-header (Initial) packet, version 1
          junk[1] = 0;
          junk[2] = 0;
          junk[3] = 0;
          junk[4] = 1;
        }
        socket.send(new DatagramPacket(junk, junk.length, InetAddress.getLoopbackAddress(), port));
      }
    }
    assertGoodConnectionWorks();
  }

  @Test
  void aStreamWithoutThePreambleFailsAndTheConnectionCarriesOn() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      URI address = listener.address();
      String hash = address.getQuery().replace("certhash=", "");
      ChannelHandler codec = new QuicClientCodecBuilder()
          .sslContext(QuicSslContextBuilder.forClient().trustManager(CertificatePins.trustOnly(hash))
              .applicationProtocols(NettyQuicOptions.ALPN.fallback()).build())
          .maxIdleTimeout(30, TimeUnit.SECONDS).initialMaxData(1 << 20)
          .initialMaxStreamDataBidirectionalLocal(1 << 16).initialMaxStreamDataBidirectionalRemote(1 << 16)
          .initialMaxStreamsBidirectional(16).build();
      Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      CompletableFuture<Connection> accepted = listener.accept();
      QuicChannel quic = QuicChannel.newBootstrap(udp).handler(new ChannelInboundHandlerAdapter())
          .streamHandler(new ChannelInboundHandlerAdapter())
          .remoteAddress(new InetSocketAddress("127.0.0.1", address.getPort())).connect().get(20, TimeUnit.SECONDS);
      Connection rude = accepted.get(20, TimeUnit.SECONDS);
      CompletableFuture<MuxedStream> in = rude.acceptStream();
      QuicStreamChannel raw = quic.createStream(QuicStreamType.BIDIRECTIONAL, new ChannelInboundHandlerAdapter())
          .get(20, TimeUnit.SECONDS);
      raw.writeAndFlush(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII)).sync();
      MuxedStream s = in.get(20, TimeUnit.SECONDS);
      assertEquals(StreamState.FAILED, s.terminated().get(20, TimeUnit.SECONDS));
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> s.read(ByteBuffer.allocate(64)).get(20, TimeUnit.SECONDS));
      assertInstanceOf(ProtocolException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("0x47"), e.getCause().getMessage());
      assertEquals(0, s.bytesRead());
      assertTrue(rude.isOpen(), "one bad stream does not end the connection");
      quic.close().sync();
      udp.close().sync();
    } finally {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }
    assertGoodConnectionWorks();
  }

  @Test
  void theWrongCertificateIsRefused() {
    URI address = listener.address();
    URI wrong = URI.create("quic://127.0.0.1:" + address.getPort() + "?certhash=" + "ab".repeat(32));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.dial(wrong).get(30, TimeUnit.SECONDS));
    assertInstanceOf(ConnectionFailedException.class, e.getCause());
  }

  @Test
  void anEndOfTheOldMappingIsRefusedAtTheHandshake() throws Exception {
    TransportOptions old = TransportOptions.builder().property(NettyQuicOptions.ALPN.name(), "braid").build();
    try (Transport oldClient = provider.create(old)) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> oldClient.dial(listener.address()).get(30, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, e.getCause());
    }
    assertGoodConnectionWorks();
  }

  @Test
  void malformedAddressesAreRejectedWithTheReason() {
    for (String bad : new String[] {"tcp://127.0.0.1:1", "quic://127.0.0.1", "quic://127.0.0.1:0",
        "quic://127.0.0.1:4433?certhash=xyz"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.dial(URI.create(bad)),
          bad);
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class,
        () -> TransportOptions.builder().property(NettyQuicOptions.CONNECTION_WINDOW.name(), "lots").build()
            .get(NettyQuicOptions.CONNECTION_WINDOW));
  }
}
