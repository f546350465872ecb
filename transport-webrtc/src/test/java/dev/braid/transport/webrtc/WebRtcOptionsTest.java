package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.braid.TransportOptions;
import org.junit.jupiter.api.Test;

/** WebRTC's settings are typed options, checked when the transport is created, before it allocates anything. */
class WebRtcOptionsTest {
  @Test
  void aBadSettingFailsCreateWithTheOptionsName() {
    WebRtcTransportProvider provider = new WebRtcTransportProvider();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> provider.create(
        TransportOptions.builder().property(WebRtcOptions.MAX_SDP_BYTES.name(), "0").build()));
    assertEquals("option webrtc.maxSdpBytes must be an integer from 1 to 1048576, was \"0\"", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> provider.create(
        TransportOptions.builder().property(WebRtcOptions.MAX_RECEIVE_BUFFER.name(), "lots").build()));
    assertEquals("option webrtc.maxReceiveBuffer must be an integer from 1 to 1073741824, was \"lots\"", e.getMessage());
  }
}
