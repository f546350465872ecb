package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Braid;
import dev.braid.OptionKey;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.TransportRegistry;
import dev.braid.transport.tcp.internal.TcpTransport;
import java.net.URI;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The TCP transport's settings ({@link TcpOptions}): typed, parsed when the transport is created, bad ones refused. */
class TcpOptionsTest {

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of(TcpOptions.TLS, "yes"),
        Arguments.of(TcpOptions.IO, "kqueue"),
        Arguments.of(TcpOptions.EVENT_LOOP_THREADS, "many"),
        Arguments.of(TcpOptions.EVENT_LOOP_THREADS, "0"),
        Arguments.of(TcpOptions.EVENT_LOOP_THREADS, "1025"),
        Arguments.of(TcpOptions.MAX_STREAM_WINDOW, "16MiB"),
        Arguments.of(TcpOptions.MAX_STREAM_WINDOW, "1024"),
        Arguments.of(TcpOptions.WINDOW_BUDGET, "-1"),
        Arguments.of(TransportOptions.TLS_KEY_STORE, "bad\u0000path"));
  }

  /** What the key itself says about {@code value}: the one message every way in must give. */
  private static String messageOf(OptionKey<?> key, String value) {
    return assertThrows(IllegalArgumentException.class, () -> key.parse(value)).getMessage();
  }

  @ParameterizedTest
  @MethodSource("badValues")
  void aBadValueFailsCreateWithTheKeysMessage(OptionKey<?> key, String value) {
    TransportOptions options = TransportOptions.builder().property(key.name(), value).build();
    String expected = messageOf(key, value);
    assertTrue(expected.startsWith("option " + key.name() + " must be "), expected);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TcpTransportProvider().create(options));
    assertEquals(expected, e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("badValues")
  void aBadValueFailsBraidsDialAndListenWithTheKeysMessage(OptionKey<?> key, String value) {
    TransportOptions options = TransportOptions.builder().property(key.name(), value).build();
    String expected = messageOf(key, value);
    try (Braid braid = Braid.create(TransportRegistry.of(List.of(new TcpTransportProvider())), options)) {
      assertEquals(expected, assertThrows(IllegalArgumentException.class,
          () -> braid.dial(URI.create("tcp://127.0.0.1:1"))).getMessage());
      assertEquals(expected, assertThrows(IllegalArgumentException.class,
          () -> braid.listen(URI.create("tcp://127.0.0.1:0"))).getMessage());
    }
  }

  @Test
  void goodValuesAreTakenInAnyCase() throws Exception {
    TransportOptions options = TransportOptions.builder().property(TcpOptions.TLS.name(), "TRUE")
        .property(TcpOptions.IO.name(), " NIO ").property(TcpOptions.EVENT_LOOP_THREADS.name(), "3").build();
    assertEquals(true, options.get(TcpOptions.TLS));
    assertEquals(TcpOptions.Io.NIO, options.get(TcpOptions.IO));
    assertEquals(3, options.get(TcpOptions.EVENT_LOOP_THREADS));
    try (Transport t = new TcpTransportProvider().create(options)) {
      assertEquals("nio", ((TcpTransport) t).ioName());
      // tcp.tls=true: a tcp:// listener speaks TLS and says so in its address.
      assertTrue(t.listen(URI.create("tcp://127.0.0.1:0")).address().toString().startsWith("tcp+tls://"));
    }
  }

  @Test
  void defaults() {
    assertEquals(false, TransportOptions.DEFAULTS.get(TcpOptions.TLS));
    assertEquals(TcpOptions.Io.AUTO, TransportOptions.DEFAULTS.get(TcpOptions.IO));
    assertEquals(Math.min(2, Runtime.getRuntime().availableProcessors()),
        TransportOptions.DEFAULTS.get(TcpOptions.EVENT_LOOP_THREADS));
  }
}
