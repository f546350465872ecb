package dev.braid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OptionKeyTest {
  enum Io { AUTO, NIO, EPOLL }

  private static final OptionKey<Integer> THREADS = OptionKey.integer("x.threads", 2, 1, 64);

  @Test
  void unsetOptionsGiveTheirDefault() {
    assertEquals(2, TransportOptions.DEFAULTS.get(THREADS));
    assertEquals(Optional.empty(), TransportOptions.DEFAULTS.get(TransportOptions.TLS_KEY_STORE));
    assertEquals("", TransportOptions.DEFAULTS.get(TransportOptions.TLS_KEY_STORE_PASSWORD));
  }

  @Test
  void valuesAreParsedOnce() {
    TransportOptions o = TransportOptions.builder().property("x.threads", " 8 ").property("x.tls", "TRUE")
        .property("x.io", "epoll").property("tls.keyStore", "/tmp/ks.p12").build();
    assertEquals(8, o.get(THREADS));
    assertTrue(o.get(OptionKey.bool("x.tls", false)));
    assertFalse(o.get(OptionKey.bool("x.other", false)));
    assertEquals(Io.EPOLL, o.get(OptionKey.oneOf("x.io", Io.class, Io.AUTO)));
    assertEquals(Optional.of(Path.of("/tmp/ks.p12")), o.get(TransportOptions.TLS_KEY_STORE));
  }

  @Test
  void aBadValueNamesTheOptionWhatItExpectsAndTheValue() {
    TransportOptions o = TransportOptions.builder().property("x.threads", "many").property("x.big", "65")
        .property("x.tls", "yes").property("x.io", "kqueue").build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.get(THREADS));
    assertEquals("option x.threads must be an integer from 1 to 64, was \"many\"", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.get(OptionKey.integer("x.big", 1, 1, 64)));
    assertEquals("option x.big must be an integer from 1 to 64, was \"65\"", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.get(OptionKey.bool("x.tls", false)));
    assertEquals("option x.tls must be true or false, was \"yes\"", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.get(OptionKey.oneOf("x.io", Io.class, Io.AUTO)));
    assertEquals("option x.io must be one of auto, nio, epoll, was \"kqueue\"", e.getMessage());
  }
}
