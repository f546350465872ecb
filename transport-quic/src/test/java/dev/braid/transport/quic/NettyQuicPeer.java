package dev.braid.transport.quic;

import dev.braid.tls.CertificatePins;
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
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.ssl.util.SimpleTrustManagerFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.TrustManager;

/**
 * An independent QUIC peer: Netty's QUIC codec on quiche (BoringSSL), as server or client, whose streams record
 * what they see (bytes with a running SHA-256, FIN as {@code ChannelInputShutdownReadComplete}, RESET_STREAM codes
 * as {@code QuicStreamResetException}) and optionally echo.
 *
 * <p>It speaks Braid's QUIC mapping 1 (README, "Stream preamble"): ALPN {@code braid/1}; a stream it opens starts with
 * the preamble byte 0x00 ({@link #open()}; {@link #openRaw} lets a test misbehave); a stream it accepts has its first
 * byte taken off as the preamble ({@link PeerStream#preamble}) and only the bytes after it are recorded and echoed.
 */
final class NettyQuicPeer implements AutoCloseable {
  static final String ALPN = "braid/1";
  /** Braid's stream preamble (QUIC mapping 1): the first byte of every stream, written by its opener. */
  static final byte PREAMBLE = 0x00;
  /** Issues no tokens, so the server never sends Retry (as Netty's package-private NoQuicTokenHandler). */
  private static final QuicTokenHandler NO_RETRY = new QuicTokenHandler() {
    @Override
    public boolean writeToken(io.netty.buffer.ByteBuf out, io.netty.buffer.ByteBuf dcid, InetSocketAddress address) {
      return false;
    }

    @Override
    public int validateToken(io.netty.buffer.ByteBuf token, InetSocketAddress address) {
      return -1;
    }

    @Override
    public int maxTokenLength() {
      return 0;
    }
  };
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final BlockingQueue<PeerStream> accepted = new LinkedBlockingQueue<>();
  private final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
  private Channel udp;
  private QuicChannel quic;
  private String certHash;
  volatile boolean echo;

  /** A Netty QUIC server on loopback with a fresh self-signed certificate. */
  static NettyQuicPeer server() throws Exception {
    return server(2000);
  }

  /**
   * A Netty QUIC server granting {@code maxStreams} client-initiated bidirectional streams (quiche grants exactly
   * that, and more only as streams end).
   */
  static NettyQuicPeer server(int maxStreams) throws Exception {
    NettyQuicPeer p = new NettyQuicPeer();
    // kwik (Braid dials it) checks the dialed host against dNSName entries only, even an IP literal
    ListenerIdentity cert = ListenerIdentity.selfSigned("netty-peer", java.util.List.of("localhost", "127.0.0.1"),
        java.util.List.of());
    p.certHash = cert.certificateHash();
    QuicSslContext ssl = QuicSslContextBuilder.forServer(cert.key(), null, cert.certificate())
        .applicationProtocols(ALPN).build();
    ChannelHandler codec = tune(new QuicServerCodecBuilder(), maxStreams)
        .sslContext(ssl)
        .tokenHandler(NO_RETRY) // kwik 0.10.8 sometimes NPEs on a Retry (README)
        .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            p.errors.add(cause);
          }
        })
        .streamHandler(p.initializer())
        .build();
    p.udp = new Bootstrap().group(p.group).channel(NioDatagramChannel.class).handler(codec)
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    return p;
  }

  /** A Netty QUIC client connected to a Braid listener, pinning its certhash. */
  static NettyQuicPeer client(URI braidAddress) throws Exception {
    NettyQuicPeer p = new NettyQuicPeer();
    String hash = braidAddress.getQuery().replace("certhash=", "");
    TrustManager pin = CertificatePins.trustOnly(hash);
    QuicSslContext ssl = QuicSslContextBuilder.forClient()
        .trustManager(new SimpleTrustManagerFactory() {
          @Override
          protected void engineInit(KeyStore keyStore) {}

          @Override
          protected void engineInit(ManagerFactoryParameters params) {}

          @Override
          protected TrustManager[] engineGetTrustManagers() {
            return new TrustManager[] {pin};
          }
        })
        .applicationProtocols(ALPN).build();
    ChannelHandler codec = tune(new QuicClientCodecBuilder(), 2000).sslContext(ssl).build();
    p.udp = new Bootstrap().group(p.group).channel(NioDatagramChannel.class).handler(codec)
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    p.quic = QuicChannel.newBootstrap(p.udp)
        .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .streamHandler(p.initializer())
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            p.errors.add(cause);
          }
        })
        .remoteAddress(new InetSocketAddress(braidAddress.getHost(), braidAddress.getPort()))
        .connect().get(20, TimeUnit.SECONDS);
    return p;
  }

  private static <B extends io.netty.handler.codec.quic.QuicCodecBuilder<B>> B tune(B b, int maxStreams) {
    return b.maxIdleTimeout(30, TimeUnit.SECONDS)
        .initialMaxData(64L << 20)
        .initialMaxStreamDataBidirectionalLocal(1 << 20)
        .initialMaxStreamDataBidirectionalRemote(1 << 20)
        .initialMaxStreamsBidirectional(maxStreams)
        .initialMaxStreamsUnidirectional(0);
  }

  private ChannelInitializer<QuicStreamChannel> initializer() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        PeerStream s = new PeerStream(echo, true);
        ch.pipeline().addLast(s);
        accepted.add(s);
      }
    };
  }

  URI braidAddress() {
    InetSocketAddress a = (InetSocketAddress) udp.localAddress();
    return URI.create("quic://127.0.0.1:" + a.getPort() + "?certhash=" + certHash);
  }

  /** The next stream the Braid side opened. */
  PeerStream accept() throws InterruptedException {
    PeerStream s = accepted.poll(20, TimeUnit.SECONDS);
    if (s == null) {
      throw new AssertionError("the Netty peer saw no new stream within 20 s");
    }
    return s;
  }

  /** Opens a stream from the Netty client, as the mapping says: its first byte is the preamble 0x00. */
  PeerStream open() throws Exception {
    return openRaw(new byte[] {PREAMBLE}, false);
  }

  /**
   * Opens a stream from the Netty client whose first bytes are {@code first} (no preamble added: a test passes
   * {@code {0x00}} to follow the mapping, anything else to break it), in one frame, with FIN on it if {@code fin}.
   */
  PeerStream openRaw(byte[] first, boolean fin) throws Exception {
    PeerStream s = new PeerStream(echo, false);
    QuicStreamChannel ch = quic.newStreamBootstrap().type(QuicStreamType.BIDIRECTIONAL)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true).handler(s).create().get(20, TimeUnit.SECONDS);
    ch.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(first), fin)); // before any later write
    return s;
  }

  ConcurrentLinkedQueue<Throwable> errors() {
    return errors;
  }

  @Override
  public void close() throws Exception {
    if (quic != null) {
      quic.close().await(5, TimeUnit.SECONDS);
    }
    if (udp != null) {
      udp.close().await(5, TimeUnit.SECONDS);
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
  }

  /** One Netty stream and what it saw (after the preamble, on a stream it accepted). */
  static final class PeerStream extends ChannelInboundHandlerAdapter {
    final CompletableFuture<QuicStreamChannel> channel = new CompletableFuture<>();
    /**
     * On a stream this peer accepted: the first byte the opener sent (the preamble, 0x00 from a Braid opener), taken
     * off before anything is recorded or echoed. Never completes on a stream this peer opened.
     */
    final CompletableFuture<Integer> preamble = new CompletableFuture<>();
    final CompletableFuture<Void> fin = new CompletableFuture<>();
    final CompletableFuture<Long> reset = new CompletableFuture<>();
    /** The echo's FIN: done when Netty's write of the last frame, with FIN, completed (exceptionally with its cause). */
    final CompletableFuture<Void> echoFin = new CompletableFuture<>();
    final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final MessageDigest sha;
    private final boolean echo;
    private boolean preambleDue; // event loop only: an accepted stream whose first byte has not arrived yet
    private final java.io.ByteArrayOutputStream firstBytes = new java.io.ByteArrayOutputStream();
    volatile long received;
    private ByteBuf heldEcho; // echo mode, event loop only: the latest chunk, not yet echoed

    PeerStream(boolean echo, boolean accepted) {
      this.echo = echo;
      this.preambleDue = accepted;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    QuicStreamChannel ch() throws Exception {
      return channel.get(20, TimeUnit.SECONDS);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      channel.complete((QuicStreamChannel) ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        if (preambleDue && buf.isReadable()) {
          preambleDue = false;
          int first = buf.readUnsignedByte();
          preamble.complete(first);
          if (first != PREAMBLE) {
            errors.add(new AssertionError(String.format("first byte 0x%02x is not the stream preamble 0x00", first)));
          }
        }
        int n = buf.readableBytes();
        if (n == 0) {
          return;
        }
        byte[] bytes = new byte[n];
        buf.getBytes(buf.readerIndex(), bytes);
        synchronized (this) {
          sha.update(bytes);
          if (firstBytes.size() < (1 << 20)) {
            firstBytes.write(bytes, 0, Math.min(n, (1 << 20) - firstBytes.size()));
          }
          received += n;
        }
        if (echo) {
          // Echo as it arrives, but hold the latest chunk back: the FIN rides on it (see userEventTriggered).
          ByteBuf previous = heldEcho;
          heldEcho = Unpooled.wrappedBuffer(bytes);
          if (previous != null) {
            ctx.writeAndFlush(previous);
          }
        }
      } finally {
        buf.release();
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      if (heldEcho != null) {
        heldEcho.release();
        heldEcho = null;
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == ChannelInputShutdownReadComplete.INSTANCE) {
        fin.complete(null);
        if (echo) {
          // The FIN goes out on the last data frame. A zero-length FIN sent after the data (shutdownOutput(), or an
          // empty frame with FIN) is accepted by Netty 4.2.17 / quiche but, against kwik, in about one run in four of
          // 200 concurrent echoes never sent for some stream: quiche's counters show every packet delivered and none
          // lost, Braid's frame tap saw each one arrive at kwik, none carried that FIN, and later traffic did not
          // release it; Netty to Netty does not show it. (finBothWays still covers a FIN sent on its own.)
          ByteBuf last = heldEcho != null ? heldEcho : Unpooled.EMPTY_BUFFER;
          heldEcho = null;
          ctx.writeAndFlush(new DefaultQuicStreamFrame(last, true))
              .addListener(done -> {
                if (done.isSuccess()) {
                  echoFin.complete(null);
                } else {
                  echoFin.completeExceptionally(done.cause());
                }
              });
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof QuicStreamResetException) {
        reset.complete(((QuicStreamResetException) cause).applicationProtocolCode());
      } else {
        errors.add(cause);
      }
    }

    synchronized String sha256() {
      try {
        return HexFormat.of().formatHex(((MessageDigest) sha.clone()).digest());
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
    }

    synchronized byte[] firstBytes() {
      return firstBytes.toByteArray();
    }

    /** Writes {@code data}, then (if asked) FIN after the write completed. */
    ChannelFuture write(byte[] data, boolean fin) throws Exception {
      QuicStreamChannel c = ch();
      ChannelFuture f = c.writeAndFlush(Unpooled.wrappedBuffer(data));
      if (fin) {
        f.addListener(done -> c.shutdownOutput());
      }
      return f;
    }
  }
}
