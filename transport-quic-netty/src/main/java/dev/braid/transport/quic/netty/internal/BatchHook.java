package dev.braid.transport.quic.netty.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.ArrayList;
import java.util.List;

/**
 * First on a UDP channel's pipeline, before Netty's QUIC codec: once the codec has processed a batch of datagrams
 * (its {@code channelReadComplete}), each connection on the socket looks at what Netty does not report
 * ({@link NettyQuicConnection#afterBatch()}: a peer's STOP_SENDING without a pending write, the end of a stream Netty
 * is not reading). Only on the channel's event loop.
 *
 * <p><b>Thread safety.</b> Confined to the UDP channel's event loop.
 */
final class BatchHook extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty");
  private final List<NettyQuicConnection> connections = new ArrayList<>();

  void add(NettyQuicConnection c) {
    connections.add(c);
  }

  void remove(NettyQuicConnection c) {
    connections.remove(c);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.fireChannelReadComplete(); // the codec processes what the batch brought
    for (NettyQuicConnection c : connections.toArray(new NettyQuicConnection[0])) {
      try {
        c.afterBatch();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "checking the streams of " + c + " after a batch failed", e);
      }
    }
  }
}
