package dev.braid.transport.webrtc.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The libp2p WebRTC message framing, written by hand (no protobuf library): every data channel message
 * carries one or more {@code uvarint(length) || Message} records, where {@code Message} is the protobuf
 * <pre>
 * message Message {
 *   enum Flag { FIN = 0; STOP_SENDING = 1; RESET_STREAM = 2; FIN_ACK = 3; }
 *   optional Flag flag = 1;
 *   optional bytes message = 2;
 *   optional uint32 errorCode = 3;
 *   optional uint32 windowUpdate = 15; // Braid extension, sent only to peers that advertised it
 * }
 * </pre>
 * Field 15 is Braid's per-stream flow control: a receiver grants its peer that many more bytes. It is
 * only ever sent to a peer that announced a receive window in its SDP ({@code a=x-braid-window}); any
 * other protobuf decoder skips it as an unknown field.
 * An encoded record, its length prefix included, is at most {@value #MAX_ENCODED} bytes.
 *
 * <p>The decoder is strict: an unknown flag value, a wrong wire type for a known field, a record larger
 * than the limit, a length prefix or varint that is too long, or a record cut short all raise a
 * {@link FramingException} naming the fault. Unknown fields with a valid wire type are skipped, as
 * protobuf requires.
 *
 * <p><b>Thread safety.</b> Stateless; all methods are thread-safe.
 */
public final class WebRtcFraming {
  /** Largest encoded record, length prefix included (libp2p WebRTC spec). */
  public static final int MAX_ENCODED = 16 * 1024;
  /** Largest data payload we put in one record: {@link #MAX_ENCODED} minus prefix, tag and length. */
  public static final int MAX_PAYLOAD = MAX_ENCODED - 2 - 1 - 2;

  /** FIN: the sender will send nothing more. */
  public static final int FIN = 0;
  /** STOP_SENDING: the sender discards what it receives from now on. */
  public static final int STOP_SENDING = 1;
  /** RESET_STREAM: the sender aborts the stream. */
  public static final int RESET_STREAM = 2;
  /** FIN_ACK: acknowledges a FIN. */
  public static final int FIN_ACK = 3;

  /** No flag in the record. */
  public static final int NO_FLAG = -1;
  /** No error code in the record. */
  public static final long NO_CODE = -1;

  private WebRtcFraming() {}

  /**
   * One decoded record.
   *
   * @param flag the flag, or {@link #NO_FLAG}
   * @param message the payload, or null when absent
   * @param errorCode the error code, or {@link #NO_CODE}
   * @param windowUpdate bytes of credit granted (Braid extension), or {@link #NO_CODE}
   */
  public record Frame(int flag, byte[] message, long errorCode, long windowUpdate) {}

  /** A malformed record; the message names the fault. */
  public static final class FramingException extends Exception {
    private static final long serialVersionUID = 1L;

    FramingException(String message) {
      super(message);
    }
  }

  /** Name of a flag value, for logs and errors. */
  public static String flagName(int flag) {
    return switch (flag) {
      case FIN -> "FIN";
      case STOP_SENDING -> "STOP_SENDING";
      case RESET_STREAM -> "RESET_STREAM";
      case FIN_ACK -> "FIN_ACK";
      case NO_FLAG -> "none";
      default -> "unknown(" + flag + ")";
    };
  }

  /** Encodes one data record; {@code length} must be at most {@link #MAX_PAYLOAD}. Returns an exact-size array. */
  public static byte[] encodeData(byte[] src, int offset, int length) {
    if (length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("payload of " + length + " bytes exceeds " + MAX_PAYLOAD);
    }
    int body = 1 + varintSize(length) + length;
    byte[] out = new byte[varintSize(body) + body];
    int p = writeVarint(out, 0, body);
    out[p++] = 0x12;
    p = writeVarint(out, p, length);
    System.arraycopy(src, offset, out, p, length);
    return out;
  }

  /** Encodes one data record from the next {@code length} bytes of {@code src} (advancing it). Exact size. */
  public static byte[] encodeData(java.nio.ByteBuffer src, int length) {
    if (length > MAX_PAYLOAD || length > src.remaining()) {
      throw new IllegalArgumentException("payload of " + length + " bytes exceeds " + MAX_PAYLOAD + " or the buffer");
    }
    int body = 1 + varintSize(length) + length;
    byte[] out = new byte[varintSize(body) + body];
    int p = writeVarint(out, 0, body);
    out[p++] = 0x12;
    p = writeVarint(out, p, length);
    src.get(out, p, length);
    return out;
  }

  /** Encodes a flag-only record, with an error code unless {@code errorCode} is {@link #NO_CODE}. Exact size. */
  public static byte[] encodeFlag(int flag, long errorCode) {
    if (flag < 0 || flag > FIN_ACK) {
      throw new IllegalArgumentException("unknown flag " + flag);
    }
    if (errorCode != NO_CODE && (errorCode < 0 || errorCode > 0xFFFF_FFFFL)) {
      throw new IllegalArgumentException("error code out of uint32 range: " + errorCode);
    }
    int body = 1 + varintSize(flag) + (errorCode == NO_CODE ? 0 : 1 + varintSize(errorCode));
    byte[] out = new byte[varintSize(body) + body];
    int p = writeVarint(out, 0, body);
    out[p++] = 0x08;
    p = writeVarint(out, p, flag);
    if (errorCode != NO_CODE) {
      out[p++] = 0x18;
      writeVarint(out, p, errorCode);
    }
    return out;
  }

  /** Encodes a window update record (field 15) granting {@code credit} more bytes. Exact size. */
  public static byte[] encodeWindowUpdate(long credit) {
    if (credit <= 0 || credit > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("window update out of range: " + credit);
    }
    int body = 1 + varintSize(credit);
    byte[] out = new byte[varintSize(body) + body];
    int p = writeVarint(out, 0, body);
    out[p++] = 0x78;
    writeVarint(out, p, credit);
    return out;
  }

  /**
   * Decodes every record in one data channel message. A data channel message holds whole records only:
   * a record cut short is an error.
   */
  public static List<Frame> decodeAll(byte[] msg) throws FramingException {
    if (msg.length == 0) {
      throw new FramingException("empty data channel message");
    }
    List<Frame> frames = new ArrayList<>(1);
    int p = 0;
    while (p < msg.length) {
      int start = p;
      long len = 0;
      int shift = 0;
      while (true) {
        if (p >= msg.length) {
          throw new FramingException("truncated length prefix at offset " + start);
        }
        if (p - start >= 3) {
          throw new FramingException("length prefix longer than 3 bytes at offset " + start
              + " (a record is at most " + MAX_ENCODED + " bytes)");
        }
        int b = msg[p++] & 0xff;
        len |= (long) (b & 0x7f) << shift;
        shift += 7;
        if ((b & 0x80) == 0) {
          break;
        }
      }
      int prefix = p - start;
      if (len + prefix > MAX_ENCODED) {
        throw new FramingException("record of " + (len + prefix) + " bytes exceeds the limit of " + MAX_ENCODED);
      }
      if (p + len > msg.length) {
        throw new FramingException("truncated record: length prefix says " + len + " bytes, "
            + (msg.length - p) + " present");
      }
      frames.add(decodeMessage(msg, p, (int) len));
      p += (int) len;
    }
    return frames;
  }

  private static Frame decodeMessage(byte[] b, int off, int len) throws FramingException {
    int end = off + len;
    int p = off;
    int flag = NO_FLAG;
    byte[] message = null;
    long code = NO_CODE;
    long window = NO_CODE;
    long[] v = new long[1];
    while (p < end) {
      p = readVarint(b, p, end, v, "field tag");
      long tag = v[0];
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == 0) {
        throw new FramingException("invalid protobuf field number 0");
      }
      switch (field) {
        case 1:
          expectWire(field, wire, 0);
          p = readVarint(b, p, end, v, "flag");
          if (v[0] < 0 || v[0] > FIN_ACK) {
            throw new FramingException("unknown flag " + Long.toUnsignedString(v[0]));
          }
          flag = (int) v[0];
          break;
        case 2: {
          expectWire(field, wire, 2);
          p = readVarint(b, p, end, v, "message length");
          if (v[0] < 0 || v[0] > end - p) {
            throw new FramingException("truncated message field: " + Long.toUnsignedString(v[0]) + " bytes declared, "
                + (end - p) + " present");
          }
          int n = (int) v[0];
          byte[] m = new byte[n];
          System.arraycopy(b, p, m, 0, n);
          message = m;
          p += n;
          break;
        }
        case 3:
          expectWire(field, wire, 0);
          p = readVarint(b, p, end, v, "errorCode");
          if (v[0] < 0 || v[0] > 0xFFFF_FFFFL) {
            throw new FramingException("errorCode out of uint32 range: " + Long.toUnsignedString(v[0]));
          }
          code = v[0];
          break;
        case 15:
          expectWire(field, wire, 0);
          p = readVarint(b, p, end, v, "windowUpdate");
          if (v[0] <= 0 || v[0] > 0xFFFF_FFFFL) {
            throw new FramingException("windowUpdate out of range: " + Long.toUnsignedString(v[0]));
          }
          window = v[0];
          break;
        default:
          p = skipField(b, p, end, field, wire, v);
          break;
      }
    }
    return new Frame(flag, message, code, window);
  }

  private static void expectWire(int field, int wire, int expected) throws FramingException {
    if (wire != expected) {
      throw new FramingException("field " + field + " has wire type " + wire + ", expected " + expected);
    }
  }

  private static int skipField(byte[] b, int p, int end, int field, int wire, long[] v) throws FramingException {
    switch (wire) {
      case 0:
        return readVarint(b, p, end, v, "unknown field " + field);
      case 1:
        if (end - p < 8) {
          throw new FramingException("truncated fixed64 field " + field);
        }
        return p + 8;
      case 2:
        p = readVarint(b, p, end, v, "length of unknown field " + field);
        if (v[0] < 0 || v[0] > end - p) {
          throw new FramingException("truncated unknown field " + field);
        }
        return p + (int) v[0];
      case 5:
        if (end - p < 4) {
          throw new FramingException("truncated fixed32 field " + field);
        }
        return p + 4;
      default:
        throw new FramingException("invalid protobuf wire type " + wire + " for field " + field);
    }
  }

  private static int readVarint(byte[] b, int p, int end, long[] out, String what) throws FramingException {
    long value = 0;
    int shift = 0;
    while (true) {
      if (p >= end) {
        throw new FramingException("truncated varint (" + what + ")");
      }
      if (shift >= 64) {
        throw new FramingException("varint longer than 10 bytes (" + what + ")");
      }
      int x = b[p++] & 0xff;
      value |= (long) (x & 0x7f) << shift;
      shift += 7;
      if ((x & 0x80) == 0) {
        out[0] = value;
        return p;
      }
    }
  }

  static int varintSize(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  private static int writeVarint(byte[] out, int p, long v) {
    while ((v & ~0x7FL) != 0) {
      out[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out[p++] = (byte) v;
    return p;
  }
}
