package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.transport.webrtc.internal.WebRtcFraming;
import dev.braid.transport.webrtc.internal.WebRtcFraming.Frame;
import dev.braid.transport.webrtc.internal.WebRtcFraming.FramingException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written uvarint/protobuf codec: round trips, the byte layout, and strict rejection of bad input. */
class WebRtcFramingTest {
  @Test
  void dataRoundTripsAtEverySizeUpToTheLimit() throws Exception {
    Random r = new Random(7);
    for (int n : new int[] {0, 1, 127, 128, 16000, WebRtcFraming.MAX_PAYLOAD}) {
      byte[] payload = new byte[n];
      r.nextBytes(payload);
      byte[] rec = WebRtcFraming.encodeData(ByteBuffer.wrap(payload), n);
      assertTrue(rec.length <= WebRtcFraming.MAX_ENCODED, "record of " + rec.length + " bytes");
      List<Frame> f = WebRtcFraming.decodeAll(rec);
      assertEquals(1, f.size());
      assertArrayEquals(payload, f.get(0).message());
      assertEquals(WebRtcFraming.NO_FLAG, f.get(0).flag());
    }
  }

  @Test
  void flagsAndCodesHaveTheSpecsByteLayout() throws Exception {
    assertArrayEquals(new byte[] {2, 0x08, 0}, WebRtcFraming.encodeFlag(WebRtcFraming.FIN, WebRtcFraming.NO_CODE));
    assertArrayEquals(new byte[] {2, 0x08, 3}, WebRtcFraming.encodeFlag(WebRtcFraming.FIN_ACK, WebRtcFraming.NO_CODE));
    assertArrayEquals(new byte[] {4, 0x08, 2, 0x18, 42}, WebRtcFraming.encodeFlag(WebRtcFraming.RESET_STREAM, 42));
    Frame f = WebRtcFraming.decodeAll(WebRtcFraming.encodeFlag(WebRtcFraming.RESET_STREAM, 0xFFFF_FFFFL)).get(0);
    assertEquals(WebRtcFraming.RESET_STREAM, f.flag());
    assertEquals(0xFFFF_FFFFL, f.errorCode());
    // Several records in one message, and data with a flag in one record (as other implementations may send).
    byte[] two = {3, 0x12, 1, 'x', 2, 0x08, 0};
    List<Frame> fs = WebRtcFraming.decodeAll(two);
    assertEquals(2, fs.size());
    assertEquals(WebRtcFraming.FIN, fs.get(1).flag());
    Frame both = WebRtcFraming.decodeAll(new byte[] {5, 0x12, 1, 'y', 0x08, 0}).get(0);
    assertArrayEquals(new byte[] {'y'}, both.message());
    assertEquals(WebRtcFraming.FIN, both.flag());
    // Unknown fields with valid wire types are skipped, as protobuf requires.
    assertEquals(WebRtcFraming.FIN, WebRtcFraming.decodeAll(new byte[] {4, 0x20, 5, 0x08, 0}).get(0).flag());
  }

  @Test
  void unknownFlagIsRejected() {
    FramingException e = assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[] {2, 0x08, 9}));
    assertTrue(e.getMessage().contains("unknown flag 9"), e.getMessage());
  }

  @Test
  void oversizedRecordIsRejected() {
    byte[] big = new byte[20_003];
    big[0] = (byte) 0xA0; // 20,000 = 0xA0 0x9C 0x01
    big[1] = (byte) 0x9C;
    big[2] = 0x01;
    FramingException e = assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(big));
    assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
    FramingException p = assertThrows(FramingException.class,
        () -> WebRtcFraming.decodeAll(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, 1}));
    assertTrue(p.getMessage().contains("longer than 3 bytes"), p.getMessage());
  }

  @Test
  void truncatedInputIsRejected() {
    FramingException prefix = assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[] {(byte) 0x80}));
    assertTrue(prefix.getMessage().contains("truncated length prefix"), prefix.getMessage());
    FramingException record = assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[] {5, 0x08}));
    assertTrue(record.getMessage().contains("truncated record"), record.getMessage());
    FramingException field = assertThrows(FramingException.class,
        () -> WebRtcFraming.decodeAll(new byte[] {3, 0x12, 9, 'x'}));
    assertTrue(field.getMessage().contains("truncated message field"), field.getMessage());
    assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[0]));
  }

  @Test
  void wrongWireTypesAreRejected() {
    FramingException e = assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[] {2, 0x0A, 0}));
    assertTrue(e.getMessage().contains("wire type"), e.getMessage());
    assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[] {2, 0x0B, 0})); // wire type 3
    assertThrows(FramingException.class, () -> WebRtcFraming.decodeAll(new byte[] {2, 0x00, 0})); // field 0
  }

  @Test
  void randomBytesNeverThrowAnythingButFramingException() {
    Random r = new Random(11);
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[1 + r.nextInt(64)];
      r.nextBytes(b);
      if (r.nextBoolean()) {
        b[0] = (byte) (b.length - 1 - r.nextInt(Math.min(3, b.length)));
      }
      try {
        WebRtcFraming.decodeAll(b);
      } catch (FramingException expected) {
        // fine: a clear error
      }
    }
  }
}
