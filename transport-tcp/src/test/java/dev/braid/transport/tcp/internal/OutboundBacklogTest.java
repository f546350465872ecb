package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/**
 * The "peer does not read" guard measures what is really queued. Netty's bytesBeforeWritable() is
 * Long.MAX_VALUE on a closed channel, which once made a closing connection look like a flooding peer.
 */
class OutboundBacklogTest {

  @Test
  void aClosedChannelHasNoBacklogEvenThoughNettySaysItIsNotWritable() {
    ChannelHandlerContext[] ctx = new ChannelHandlerContext[1];
    EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext c) {
        ctx[0] = c;
      }
    });
    ch.write(Unpooled.wrappedBuffer(new byte[1000])); // queued, not flushed
    assertTrue(YamuxSession.outboundBacklog(ctx[0]) >= 1000, "the queued bytes count (plus Netty's entry overhead)");
    ch.close();
    assertEquals(Long.MAX_VALUE, ch.bytesBeforeWritable(), "the Netty behaviour this guards against");
    assertEquals(0, YamuxSession.outboundBacklog(ctx[0]));
    ch.finishAndReleaseAll();
  }
}
