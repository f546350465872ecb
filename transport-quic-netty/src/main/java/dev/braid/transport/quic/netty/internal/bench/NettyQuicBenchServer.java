package dev.braid.transport.quic.netty.internal.bench;

import dev.braid.TransportOptions;
import dev.braid.tls.ListenerIdentity;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamFrame;
import io.netty.handler.codec.quic.QuicTokenHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ImmediateExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server half of {@link NettyQuicBaseline}: Netty's QUIC server codec on one loopback UDP socket, used directly. It
 * echoes streams whose first byte is {@code 'E'} and reads every other stream to its end; at the end of a stream (the
 * client's FIN) it sends its own FIN. Streams are read as {@link QuicStreamFrame}s (read frames on), so an echo
 * carries the FIN on the frame that brought it: the last echoed bytes and the FIN leave together, as they arrived.
 *
 * <p>The codec settings are the Netty QUIC transport's ({@code internal.NettyQuicTransport.tune} with
 * {@link TransportOptions#DEFAULTS}): 256 KiB per stream, at least 16 MiB per connection, CUBIC, no active migration,
 * BoringSSL's tasks run inline. It grants the client {@value #MAX_STREAMS} concurrent bidirectional streams and issues
 * no tokens (no Retry), as the transport's listener. Not taken over: the transport's keep-alive DATAGRAM frames and its
 * per-batch stream probes, which are Braid's own cost. The certificate is a fresh self-signed EC P-256 one
 * ({@link ListenerIdentity}), which the client pins.
 *
 * <p><b>Thread safety.</b> {@link #start} and {@link #stop()} by one thread; everything else runs on the socket's
 * event loop, but {@link #streamsSeen()} from any thread.
 */
final class NettyQuicBenchServer {
  static final String ALPN = "braid-bench";
  /** Braid's default receive window, the transport's initial_max_stream_data. */
  static final int STREAM_WINDOW = TransportOptions.DEFAULTS.receiveWindow();
  /** The transport's initial_max_data: {@code max(16 MiB, 4 × receiveWindow)}. */
  static final long CONNECTION_WINDOW = Math.max(16L << 20, STREAM_WINDOW * 4L);
  static final int MAX_STREAMS = 16384;
  /**
   * Long, as the kwik baseline's: the connection sits idle while the bench measures Braid between the baseline's own
   * figures. A stalled measurement is bounded by the baseline's own timeout, not by this.
   */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty.bench");
  /** Issues no tokens, so the server never sends Retry (as the transport's listener). */
  private static final QuicTokenHandler NO_TOKENS = new QuicTokenHandler() {
    @Override
    public boolean writeToken(ByteBuf out, ByteBuf dcid, InetSocketAddress address) {
      return false;
    }

    @Override
    public int validateToken(ByteBuf token, InetSocketAddress address) {
      return -1;
    }

    @Override
    public int maxTokenLength() {
      return 0;
    }
  };

  private final AtomicInteger streamsSeen = new AtomicInteger();
  private Channel udp;
  private String certificateHash;

  /**
   * The codec settings both ends share (those of the transport, see the class comment); {@code peerStreams} is the
   * bidirectional stream credit granted to the peer.
   */
  static <B extends QuicCodecBuilder<B>> B tune(B b, long peerStreams) {
    return b.maxIdleTimeout(IDLE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .initialMaxData(CONNECTION_WINDOW)
        .initialMaxStreamDataBidirectionalLocal(STREAM_WINDOW)
        .initialMaxStreamDataBidirectionalRemote(STREAM_WINDOW)
        .initialMaxStreamDataUnidirectional(0)
        .initialMaxStreamsBidirectional(peerStreams)
        .initialMaxStreamsUnidirectional(0)
        .congestionControlAlgorithm(QuicCongestionControlAlgorithm.CUBIC)
        .activeMigration(false)
        .sslTaskExecutor(ImmediateExecutor.INSTANCE);
  }

  /** Binds the socket on one of {@code group}'s loops; {@link #stop()} frees what a failed start left behind. */
  void start(EventLoopGroup group) throws Exception {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    ListenerIdentity identity = ListenerIdentity.selfSigned("localhost", List.of("localhost"), List.of(loopback));
    certificateHash = identity.certificateHash();
    QuicSslContext ssl = QuicSslContextBuilder.forServer(identity.key(), null,
            identity.chain().toArray(new X509Certificate[0]))
        .applicationProtocols(ALPN)
        .build();
    ChannelHandler codec = tune(new QuicServerCodecBuilder(), MAX_STREAMS)
        .sslContext(ssl)
        .tokenHandler(NO_TOKENS)
        .handler(new ConnectionEvents("server"))
        .streamHandler(new ChannelInitializer<QuicStreamChannel>() {
          @Override
          protected void initChannel(QuicStreamChannel ch) {
            streamsSeen.incrementAndGet();
            // Not streamOption(QuicChannelOption.READ_FRAMES, true): Netty 4.2.18 applies it but reports it unknown,
            // a WARNING per stream (QuicheQuicStreamChannelConfig.setOption lacks its "return true").
            ch.config().setReadFrames(true);
            ch.pipeline().addLast(new Serve());
          }
        })
        .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .build();
    ChannelFuture bind = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
        .bind(new InetSocketAddress(loopback, 0));
    udp = bind.channel();
    if (!bind.await(10, TimeUnit.SECONDS)) {
      throw new TimeoutException("Netty QUIC baseline: the server socket did not bind within 10 s");
    }
    if (!bind.isSuccess()) {
      throw new IOException("Netty QUIC baseline: cannot bind the server socket: " + bind.cause(), bind.cause());
    }
  }

  InetSocketAddress address() {
    return (InetSocketAddress) udp.localAddress();
  }

  /** Hex SHA-256 of the server's certificate, which the client pins. */
  String certificateHash() {
    return certificateHash;
  }

  /** How many client streams the server has seen so far (a stream appears with its first frame). */
  int streamsSeen() {
    return streamsSeen.get();
  }

  /** Closes the socket (bounded); its connections go with it. */
  void stop() throws InterruptedException {
    Channel u = udp;
    udp = null;
    if (u != null && !u.close().await(5, TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.WARNING, "Netty QUIC baseline: the server socket did not close within 5 s");
    }
  }

  /**
   * The handler of every QuicChannel, server and client: logs errors. It passes reads on as the adapter does: a new
   * peer stream arrives as a message that Netty's pipeline tail registers, dropping it would lose the stream.
   */
  @ChannelHandler.Sharable
  static final class ConnectionEvents extends ChannelInboundHandlerAdapter {
    private final String side;

    ConnectionEvents(String side) {
      this.side = side;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.log(System.Logger.Level.DEBUG, "Netty QUIC baseline " + side + ": connection error: " + cause);
    }
  }

  /** One client stream: echo ('E' first) or sink; at its end, the FIN back. On the socket's event loop. */
  private static final class Serve extends ChannelInboundHandlerAdapter {
    private Boolean echo;
    private boolean finSent;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      QuicStreamFrame frame = (QuicStreamFrame) msg; // READ_FRAMES: the FIN comes on the frame that ends the stream
      ByteBuf content = frame.content();
      if (echo == null && content.isReadable()) {
        echo = content.getByte(content.readerIndex()) == 'E';
      }
      if (finSent) {
        frame.release();
        return;
      }
      if (Boolean.TRUE.equals(echo)) {
        finSent = frame.hasFin();
        ctx.writeAndFlush(frame).addListener(f -> {
          if (!f.isSuccess()) {
            LOG.log(System.Logger.Level.DEBUG, "Netty QUIC baseline server: echo not written: " + f.cause());
          }
        });
        if (!ctx.channel().isWritable()) {
          ctx.channel().config().setAutoRead(false); // the echo waits for quiche's send window: so does reading
        }
      } else {
        boolean fin = frame.hasFin();
        frame.release();
        if (fin) {
          sendFin(ctx);
        }
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable() && !ctx.channel().config().isAutoRead()) {
        ctx.channel().config().setAutoRead(true);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == ChannelInputShutdownReadComplete.INSTANCE) {
        sendFin(ctx); // a FIN that came without a frame of its own (normally the frame above carried it)
      }
      ReferenceCountUtil.release(evt);
    }

    private void sendFin(ChannelHandlerContext ctx) {
      if (finSent) {
        return;
      }
      finSent = true;
      ctx.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.EMPTY_BUFFER, true)).addListener(f -> {
        if (!f.isSuccess()) {
          LOG.log(System.Logger.Level.DEBUG, "Netty QUIC baseline server: FIN not sent: " + f.cause());
        }
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.log(System.Logger.Level.DEBUG, "Netty QUIC baseline server stream ended: " + cause);
      ctx.close();
    }
  }
}
