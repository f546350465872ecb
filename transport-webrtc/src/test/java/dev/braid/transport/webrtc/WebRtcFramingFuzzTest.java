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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Arbitrary bytes into the framing decoder: it returns records or throws {@link FramingException},
 * nothing else, and whatever it accepts re-encodes to records it decodes the same way.
 *
 * <p>Every build replays the saved inputs ({@code WebRtcFramingFuzzTestInputs/arbitraryMessages/}) in the
 * normal test run (where {@code @Timeout} bounds each), then fuzzes in the pom's {@code fuzz} Surefire
 * execution ({@code JAZZER_FUZZ=1}) up to {@code maxExecutions} inputs or {@code maxDuration}, whichever
 * comes first; {@code -Pfuzz} fuzzes 10 minutes. A finding fails the build and is saved to that directory.
 * {@code @Timeout} is also the per-input hang bound while fuzzing: Jazzer hands it to libFuzzer
 * ({@code -timeout}), and the fuzz execution turns JUnit's own timeouts off so that it does not bound the
 * whole run.
 */
class WebRtcFramingFuzzTest {
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  @FuzzTest(maxExecutions = 1_500_000, maxDuration = "30s")
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
