package dev.braid.transport.tcp.internal;

import dev.braid.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link YamuxFrame}s and rejects every malformed header: a version other
 * than 0, an unknown type, unknown flags, a Data or Window Update frame on stream 0, a Ping or Go Away
 * on another stream, Ping flags other than exactly SYN or ACK, Go Away flags, and a Data payload longer
 * than the limit. A rejected header throws a {@link ProtocolException} naming the fault (Netty wraps it
 * in a {@code DecoderException} for {@code exceptionCaught}); afterwards every further byte is discarded.
 *
 * <p><b>Thread safety.</b> Not thread-safe; one instance per channel, used on its event loop.
 */
public final class YamuxFrameDecoder extends ByteToMessageDecoder {
  private final long maxDataLength;
  private boolean failed;

  /** @param maxDataLength the largest Data payload accepted */
  public YamuxFrameDecoder(long maxDataLength) {
    this.maxDataLength = maxDataLength;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws ProtocolException {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < YamuxFrame.HEADER_LENGTH) {
      return;
    }
    int i = in.readerIndex();
    int version = in.getUnsignedByte(i);
    int type = in.getUnsignedByte(i + 1);
    int flags = in.getUnsignedShort(i + 2);
    long streamId = in.getUnsignedInt(i + 4);
    long length = in.getUnsignedInt(i + 8);
    if (version != YamuxFrame.VERSION) {
      throw fail(in, "yamux: unsupported protocol version " + version + " (expected 0)");
    }
    if (type > YamuxFrame.TYPE_GO_AWAY) {
      throw fail(in, "yamux: unknown frame type " + type);
    }
    if ((flags & ~YamuxFrame.KNOWN_FLAGS) != 0) {
      throw fail(in, String.format("yamux: unknown flags 0x%04x in a %s frame", flags, YamuxFrame.typeName(type)));
    }
    switch (type) {
      case YamuxFrame.TYPE_DATA, YamuxFrame.TYPE_WINDOW_UPDATE -> {
        if (streamId == 0) {
          throw fail(in, "yamux: " + YamuxFrame.typeName(type) + " frame on stream 0");
        }
        if (type == YamuxFrame.TYPE_DATA && length > maxDataLength) {
          throw fail(in, "yamux: data frame of " + length + " bytes on stream " + streamId
              + " exceeds the limit of " + maxDataLength + " bytes");
        }
      }
      case YamuxFrame.TYPE_PING -> {
        if (streamId != 0) {
          throw fail(in, "yamux: ping frame on stream " + streamId + " (pings use stream 0)");
        }
        if (flags != YamuxFrame.FLAG_SYN && flags != YamuxFrame.FLAG_ACK) {
          throw fail(in, "yamux: ping frame with flags " + YamuxFrame.flagNames(flags) + " (expected SYN or ACK)");
        }
      }
      default -> { // go-away
        if (streamId != 0) {
          throw fail(in, "yamux: go-away frame on stream " + streamId + " (go-away uses stream 0)");
        }
        if (flags != 0) {
          throw fail(in, "yamux: go-away frame with flags " + YamuxFrame.flagNames(flags));
        }
      }
    }
    if (type == YamuxFrame.TYPE_DATA) {
      if (in.readableBytes() < YamuxFrame.HEADER_LENGTH + length) {
        return; // wait for the whole payload (bounded by maxDataLength)
      }
      in.skipBytes(YamuxFrame.HEADER_LENGTH);
      ByteBuf data = in.readRetainedSlice((int) length);
      out.add(new YamuxFrame(type, flags, streamId, length, data));
    } else {
      in.skipBytes(YamuxFrame.HEADER_LENGTH);
      out.add(new YamuxFrame(type, flags, streamId, length, null));
    }
  }

  private ProtocolException fail(ByteBuf in, String message) {
    failed = true;
    in.skipBytes(in.readableBytes());
    return new ProtocolException(message);
  }
}
