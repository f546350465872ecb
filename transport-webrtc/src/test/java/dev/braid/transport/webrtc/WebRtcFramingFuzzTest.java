package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.transport.webrtc.internal.WebRtcFraming;
import dev.braid.transport.webrtc.internal.WebRtcFraming.Frame;
import dev.braid.transport.webrtc.internal.WebRtcFraming.FramingException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Arbitrary bytes into the framing decoder: it returns records or throws {@link FramingException},
 * nothing else, and whatever it accepts re-encodes to records it decodes the same way. The seeds run in
 * every build; {@code JAZZER_FUZZ=1} fuzzes.
 */
class WebRtcFramingFuzzTest {
  @FuzzTest(maxDuration = "30s")
  void arbitraryMessages(byte[] input) {
    List<Frame> frames;
    try {
      frames = WebRtcFraming.decodeAll(input);
    } catch (FramingException expected) {
      assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
      return;
    }
    for (Frame f : frames) {
      assertTrue(f.flag() >= WebRtcFraming.NO_FLAG && f.flag() <= WebRtcFraming.FIN_ACK, "flag " + f.flag());
      if (f.message() != null) {
        assertTrue(f.message().length <= WebRtcFraming.MAX_ENCODED);
        if (f.message().length <= WebRtcFraming.MAX_PAYLOAD) {
          try {
            Frame again = WebRtcFraming.decodeAll(
                WebRtcFraming.encodeData(ByteBuffer.wrap(f.message()), f.message().length)).get(0);
            assertArrayEquals(f.message(), again.message());
          } catch (FramingException e) {
            throw new AssertionError("a re-encoded data record does not decode", e);
          }
        }
      }
      if (f.flag() != WebRtcFraming.NO_FLAG) {
        try {
          Frame again = WebRtcFraming.decodeAll(WebRtcFraming.encodeFlag(f.flag(), f.errorCode())).get(0);
          assertEquals(f.flag(), again.flag());
          assertEquals(f.errorCode(), again.errorCode());
        } catch (FramingException e) {
          throw new AssertionError("a re-encoded flag record does not decode", e);
        }
      }
    }
  }
}
