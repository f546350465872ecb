package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The yamux frame decoder on its own, in an {@link EmbeddedChannel}. */
class YamuxFrameDecoderTest {
  private static final int LIMIT = 256 * 1024;

  private static ByteBuf header(int version, int type, int flags, long stream, long length) {
    ByteBuf b = Unpooled.buffer(12);
    b.writeByte(version).writeByte(type).writeShort(flags).writeInt((int) stream).writeInt((int) length);
    return b;
  }

  private static EmbeddedChannel channel() {
    return new EmbeddedChannel(new YamuxFrameDecoder(LIMIT));
  }

  @Test
  void decodesEveryTypeEvenWhenSplitByteByByte() {
    EmbeddedChannel ch = channel();
    byte[] payload = "hello yamux".getBytes(StandardCharsets.US_ASCII);
    ByteBuf all = Unpooled.buffer();
    all.writeBytes(header(0, 0, 1, 1, payload.length)).writeBytes(payload);
    all.writeBytes(header(0, 1, 2, 2, 1000));
    all.writeBytes(header(0, 2, 1, 0, 77));
    all.writeBytes(header(0, 3, 0, 0, 0));
    all.writeBytes(header(0, 0, 4, 0xFFFF_FFFFL, 0)); // empty data frame with FIN, largest id
    while (all.isReadable()) {
      ch.writeInbound(all.readRetainedSlice(1));
    }
    all.release();
    YamuxFrame data = ch.readInbound();
    assertEquals(YamuxFrame.TYPE_DATA, data.type());
    assertEquals(YamuxFrame.FLAG_SYN, data.flags());
    assertEquals(1, data.streamId());
    assertEquals("hello yamux", data.data().toString(StandardCharsets.US_ASCII));
    data.release();
    YamuxFrame wu = ch.readInbound();
    assertEquals(YamuxFrame.TYPE_WINDOW_UPDATE, wu.type());
    assertEquals(1000, wu.length());
    assertNull(wu.data());
    YamuxFrame ping = ch.readInbound();
    assertEquals(YamuxFrame.TYPE_PING, ping.type());
    assertEquals(77, ping.length());
    YamuxFrame goAway = ch.readInbound();
    assertEquals(YamuxFrame.TYPE_GO_AWAY, goAway.type());
    YamuxFrame fin = ch.readInbound();
    assertEquals(0xFFFF_FFFFL, fin.streamId());
    assertEquals(YamuxFrame.FLAG_FIN, fin.flags());
    fin.release();
    assertNull(ch.readInbound());
    assertTrue(ch.finishAndReleaseAll() || true);
  }

  @Test
  void acceptsADataFrameOfExactlyTheLimit() {
    EmbeddedChannel ch = channel();
    ByteBuf b = header(0, 0, 0, 1, LIMIT).writeBytes(new byte[LIMIT]);
    ch.writeInbound(b);
    YamuxFrame f = ch.readInbound();
    assertEquals(LIMIT, f.data().readableBytes());
    f.release();
    ch.finishAndReleaseAll();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bad version             | 1 | 0 | 0 | 1 | 0      | unsupported protocol version 1",
      "version 255             | 255 | 1 | 0 | 1 | 0    | unsupported protocol version 255",
      "unknown type            | 0 | 4 | 0 | 1 | 0      | unknown frame type 4",
      "unknown type 255        | 0 | 255 | 0 | 1 | 0    | unknown frame type 255",
      "unknown flag 0x10       | 0 | 0 | 16 | 1 | 0     | unknown flags 0x0010",
      "unknown flag 0x8000     | 0 | 1 | 32768 | 1 | 0  | unknown flags 0x8000",
      "data on stream 0        | 0 | 0 | 0 | 0 | 5      | data frame on stream 0",
      "window update stream 0  | 0 | 1 | 0 | 0 | 5      | window update frame on stream 0",
      "ping on a stream        | 0 | 2 | 1 | 3 | 0      | ping frame on stream 3",
      "ping without flags      | 0 | 2 | 0 | 0 | 0      | ping frame with flags none",
      "ping with SYN and ACK   | 0 | 2 | 3 | 0 | 0      | ping frame with flags SYN|ACK",
      "ping with FIN           | 0 | 2 | 4 | 0 | 0      | ping frame with flags FIN",
      "go-away on a stream     | 0 | 3 | 0 | 1 | 0      | go-away frame on stream 1",
      "go-away with flags      | 0 | 3 | 8 | 0 | 0      | go-away frame with flags RST",
      "data beyond the limit   | 0 | 0 | 0 | 1 | 262145 | data frame of 262145 bytes on stream 1 exceeds the limit of 262144 bytes",
      "data of 4 GiB           | 0 | 0 | 0 | 1 | 4294967295 | data frame of 4294967295 bytes",
  })
  void rejectsMalformedHeaders(String name, int version, int type, int flags, long stream, long length, String fault) {
    EmbeddedChannel ch = channel();
    DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(header(version, type, flags, stream, length)));
    ProtocolException p = assertInstanceOf(ProtocolException.class, e.getCause());
    assertTrue(p.getMessage().contains(fault), p.getMessage());
    assertTrue(p.getMessage().startsWith("yamux: "), p.getMessage());
    // Afterwards nothing more is decoded, even valid frames.
    ch.writeInbound(header(0, 2, 1, 0, 1));
    assertNull(ch.readInbound());
    ch.finishAndReleaseAll();
  }

  @Test
  void rejectsAnOversizedLengthBeforeItsPayloadArrives() {
    EmbeddedChannel ch = channel();
    // Only the header: the decoder must not wait for (and buffer) 16 MiB.
    DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(header(0, 0, 0, 1, 16 << 20)));
    assertInstanceOf(ProtocolException.class, e.getCause());
    ch.finishAndReleaseAll();
  }

  @Test
  void randomGarbageNeverThrowsAnythingButProtocolErrors() {
    Random rnd = new Random(42);
    for (int round = 0; round < 2000; round++) {
      EmbeddedChannel ch = channel();
      byte[] junk = new byte[rnd.nextInt(64)];
      rnd.nextBytes(junk);
      if (rnd.nextBoolean() && junk.length > 0) {
        junk[0] = 0; // often a valid version, to reach the deeper checks
      }
      try {
        ch.writeInbound(Unpooled.wrappedBuffer(junk));
      } catch (DecoderException e) {
        assertNotNull(e.getCause());
        assertInstanceOf(ProtocolException.class, e.getCause(), "round " + round);
      }
      for (Object o; (o = ch.readInbound()) != null; ) {
        ((YamuxFrame) o).release();
      }
      ch.finishAndReleaseAll();
    }
  }
}
