package dev.braid.transport.tcp.internal.bench;

import dev.braid.spi.BenchBaseline;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A plain Netty TCP channel, without yamux, as a second baseline for the TCP transport: it splits what Netty itself
 * costs from what the multiplexer costs. Same event-loop count as Braid's transport by default (2), and the same I/O
 * flavour it picks by default (epoll where its native library loads, NIO elsewhere). One TCP connection per "stream": a sink reads to the client's half-close and then closes; an
 * echo connection sends every byte back.
 *
 * <p><b>Thread safety.</b> As {@link BenchBaseline}: one driver thread; Netty's event loops do the rest.
 */
public final class NettyBaseline implements BenchBaseline {
  private static final int CHUNK = 256 * 1024;
  private EventLoopGroup group;
  private Class<? extends SocketChannel> channel;
  private Channel server;

  @Override
  public String transportId() {
    return "tcp";
  }

  @Override
  public String name() {
    return "plain Netty TCP channel (no yamux)";
  }

  @Override
  public void start() throws Exception {
    boolean epoll = Epoll.isAvailable(); // the I/O flavour Braid's transport picks by default
    group = new MultiThreadIoEventLoopGroup(2, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    channel = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    server = new ServerBootstrap().group(group).channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new Serve());
          }
        })
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  /** The server side: the first byte says what the connection is ('E' echo, anything else a sink). */
  private static final class Serve extends ChannelInboundHandlerAdapter {
    private Boolean echo;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      if (echo == null && b.isReadable()) {
        echo = b.getByte(b.readerIndex()) == 'E';
      }
      if (Boolean.TRUE.equals(echo)) {
        ctx.writeAndFlush(b);
      } else {
        ReferenceCountUtil.release(b);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ctx.close(); // the sink read everything: the client sees the close
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** A client connection: completes {@code closed} when the server closes; collects echoed bytes. */
  private Channel connect(CompletableFuture<Void> closed, ByteBuf echoed) throws InterruptedException {
    Channel ch = new Bootstrap().group(group).channel(channel)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            if (echoed != null) {
              synchronized (echoed) {
                echoed.writeBytes(b);
                echoed.notifyAll();
              }
            }
            b.release();
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            closed.complete(null);
          }
        })
        .connect(server.localAddress()).sync().channel();
    return ch;
  }

  /** Writes 'S' and then {@code bytes - 1} bytes from the event loop as fast as writability allows, then half-closes. */
  private static final class Source extends ChannelInboundHandlerAdapter {
    private static final ByteBuf CHUNK_BUF = Unpooled.unreleasableBuffer(Unpooled.directBuffer(CHUNK).writeZero(CHUNK));
    private long left;

    Source(long bytes) {
      this.left = bytes;
    }

    void start(ChannelHandlerContext ctx) {
      ctx.write(Unpooled.wrappedBuffer(new byte[] {'S'}));
      left--;
      pump(ctx);
    }

    private void pump(ChannelHandlerContext ctx) {
      while (left > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(CHUNK, left);
        ctx.write(CHUNK_BUF.retainedSlice(0, n));
        left -= n;
      }
      ctx.flush();
      if (left == 0) {
        left = -1;
        ((DuplexChannel) ctx.channel()).shutdownOutput();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (left > 0 && ctx.channel().isWritable()) {
        pump(ctx);
      }
    }
  }

  @Override
  public double oneStreamThroughput(long bytes) throws Exception {
    return manyStreamsThroughput(1, bytes);
  }

  @Override
  public double manyStreamsThroughput(int n, long perStream) throws Exception {
    List<CompletableFuture<Void>> done = new ArrayList<>();
    List<Channel> channels = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CompletableFuture<Void> closed = new CompletableFuture<>();
      done.add(closed);
      channels.add(connect(closed, null));
    }
    long t0 = System.nanoTime();
    for (Channel ch : channels) {
      Source source = new Source(perStream);
      ch.pipeline().addLast(source);
      ch.eventLoop().execute(() -> source.start(ch.pipeline().context(source)));
    }
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    return n * perStream / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  @Override
  public double openFirstByteMicros(int samples) throws Exception {
    double[] us = new double[samples];
    for (int i = 0; i < samples; i++) {
      ByteBuf echoed = Unpooled.buffer();
      CompletableFuture<Void> closed = new CompletableFuture<>();
      long t0 = System.nanoTime();
      Channel ch = connect(closed, echoed);
      ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'E'}));
      awaitEchoed(echoed, 1);
      us[i] = (System.nanoTime() - t0) / 1e3;
      ch.close().sync();
      echoed.release();
    }
    return BenchBaseline.median(us);
  }

  @Override
  public double roundTripMicros(int samples) throws Exception {
    ByteBuf echoed = Unpooled.buffer();
    Channel ch = connect(new CompletableFuture<>(), echoed);
    byte[] msg = new byte[64];
    msg[0] = 'E';
    double[] us = new double[samples];
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      ch.writeAndFlush(Unpooled.wrappedBuffer(msg));
      awaitEchoed(echoed, 64L * (i + 1));
      us[i] = (System.nanoTime() - t0) / 1e3;
    }
    ch.close().sync();
    echoed.release();
    return BenchBaseline.median(us);
  }

  private static void awaitEchoed(ByteBuf echoed, long total) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    synchronized (echoed) {
      while (echoed.writerIndex() < total) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("no echo within 30 s");
        }
        echoed.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  @Override
  public double memoryPerIdleStreamBytes(int n) throws Exception {
    long before = BenchBaseline.settledHeap();
    List<Channel> idle = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      idle.add(connect(new CompletableFuture<>(), null));
    }
    long after = BenchBaseline.settledHeap();
    for (Channel ch : idle) {
      ch.close().sync();
    }
    return Math.max(0, after - before) / (double) n;
  }

  @Override
  public void stop() throws Exception {
    if (server != null) {
      server.close().sync();
    }
    if (group != null) {
      group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }
  }
}
