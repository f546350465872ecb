package dev.braid.transport.tcp.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * One decoded yamux frame (hashicorp/yamux {@code spec.md}): the 12-byte header, plus the payload of a
 * Data frame. The payload is a retained slice of the inbound buffer; {@link #release()} frees it.
 *
 * <pre>
 *  0        1        2        4            8            12
 *  | version | type  | flags  | stream id  | length     | payload (Data only) ...
 * </pre>
 *
 * <p><b>Thread safety.</b> Not thread-safe; a frame lives on one event loop.
 *
 * @param type the frame type
 * @param flags the flags
 * @param streamId the stream id (unsigned 32-bit)
 * @param length the length field (unsigned 32-bit)
 * @param data the payload of a Data frame, or null
 */
public record YamuxFrame(int type, int flags, long streamId, long length, ByteBuf data) {
  /** The only protocol version. */
  public static final int VERSION = 0;
  /** Header size in bytes. */
  public static final int HEADER_LENGTH = 12;

  /** Data frame: the length is the payload's. */
  public static final int TYPE_DATA = 0;
  /** Window update: the length is the window delta (or, with RST, the libp2p error code). */
  public static final int TYPE_WINDOW_UPDATE = 1;
  /** Ping: stream 0, the length is an opaque value echoed back. */
  public static final int TYPE_PING = 2;
  /** Go away: stream 0, the length is the reason code. */
  public static final int TYPE_GO_AWAY = 3;

  /** Opens a stream (or marks a ping request). */
  public static final int FLAG_SYN = 1;
  /** Acknowledges a stream (or marks a ping response). */
  public static final int FLAG_ACK = 2;
  /** Half-closes the sender's direction. */
  public static final int FLAG_FIN = 4;
  /** Resets the stream. */
  public static final int FLAG_RST = 8;
  /** Every defined flag. */
  public static final int KNOWN_FLAGS = FLAG_SYN | FLAG_ACK | FLAG_FIN | FLAG_RST;

  /** Go-away: normal termination. */
  public static final int GO_AWAY_NORMAL = 0;
  /** Go-away: the peer broke the protocol. */
  public static final int GO_AWAY_PROTOCOL_ERROR = 1;
  /** Go-away: an internal error. */
  public static final int GO_AWAY_INTERNAL_ERROR = 2;

  /** The initial per-stream window every yamux peer starts with (fixed by the spec). */
  public static final int INITIAL_WINDOW = 256 * 1024;
  /** Largest value the 32-bit length field can carry. */
  public static final long MAX_UINT32 = 0xFFFF_FFFFL;

  /** Frees the payload, if any. */
  public void release() {
    if (data != null) {
      data.release();
    }
  }

  /** Writes a header into {@code out}. */
  static void writeHeader(ByteBuf out, int type, int flags, long streamId, long length) {
    out.writeByte(VERSION);
    out.writeByte(type);
    out.writeShort(flags);
    out.writeInt((int) streamId);
    out.writeInt((int) length);
  }

  /** A header-only frame (window update, ping, go-away). */
  static ByteBuf control(ByteBufAllocator alloc, int type, int flags, long streamId, long length) {
    ByteBuf b = alloc.ioBuffer(HEADER_LENGTH);
    writeHeader(b, type, flags, streamId, length);
    return b;
  }

  static String typeName(int type) {
    return switch (type) {
      case TYPE_DATA -> "data";
      case TYPE_WINDOW_UPDATE -> "window update";
      case TYPE_PING -> "ping";
      case TYPE_GO_AWAY -> "go-away";
      default -> "type " + type;
    };
  }

  static String flagNames(int flags) {
    StringBuilder sb = new StringBuilder();
    if ((flags & FLAG_SYN) != 0) {
      sb.append("SYN|");
    }
    if ((flags & FLAG_ACK) != 0) {
      sb.append("ACK|");
    }
    if ((flags & FLAG_FIN) != 0) {
      sb.append("FIN|");
    }
    if ((flags & FLAG_RST) != 0) {
      sb.append("RST|");
    }
    if ((flags & ~KNOWN_FLAGS) != 0) {
      sb.append(String.format("0x%x|", flags & ~KNOWN_FLAGS));
    }
    return sb.length() == 0 ? "none" : sb.substring(0, sb.length() - 1);
  }

  static String goAwayName(long code) {
    if (code == GO_AWAY_NORMAL) {
      return "normal termination (0)";
    }
    if (code == GO_AWAY_PROTOCOL_ERROR) {
      return "protocol error (1)";
    }
    if (code == GO_AWAY_INTERNAL_ERROR) {
      return "internal error (2)";
    }
    return "unknown code (" + code + ")";
  }

  @Override
  public String toString() {
    return "yamux " + typeName(type) + " stream=" + streamId + " flags=" + flagNames(flags) + " length=" + length;
  }
}
