package dev.braid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StreamStateTest {

  @Test
  void exactlyTheSevenStatesOfTheSpec() {
    assertEquals(Set.of("OPENING", "OPEN", "READ_CLOSED", "WRITE_CLOSED", "CLOSED", "RESET", "FAILED"),
        EnumSet.allOf(StreamState.class).stream().map(Enum::name).collect(java.util.stream.Collectors.toSet()));
  }

  @Test
  void terminalStatesNeverChange() {
    for (StreamState from : EnumSet.of(StreamState.CLOSED, StreamState.RESET, StreamState.FAILED)) {
      assertTrue(from.isTerminal());
      for (StreamState to : StreamState.values()) {
        assertFalse(from.canTransitionTo(to), from + " -> " + to);
      }
    }
  }

  @Test
  void transitionsOnlyGoForwardAndNeverSideways() {
    assertTrue(StreamState.OPENING.canTransitionTo(StreamState.OPEN));
    assertTrue(StreamState.OPEN.canTransitionTo(StreamState.CLOSED));
    assertTrue(StreamState.READ_CLOSED.canTransitionTo(StreamState.CLOSED));
    assertTrue(StreamState.WRITE_CLOSED.canTransitionTo(StreamState.RESET));
    assertFalse(StreamState.READ_CLOSED.canTransitionTo(StreamState.WRITE_CLOSED));
    assertFalse(StreamState.WRITE_CLOSED.canTransitionTo(StreamState.READ_CLOSED));
    assertFalse(StreamState.OPEN.canTransitionTo(StreamState.OPENING));
    assertFalse(StreamState.OPEN.canTransitionTo(StreamState.OPEN));
  }

  @Test
  void readAndWriteClosedPredicatesFollowTheTable() {
    assertTrue(StreamState.READ_CLOSED.isReadClosed());
    assertFalse(StreamState.READ_CLOSED.isWriteClosed());
    assertTrue(StreamState.WRITE_CLOSED.isWriteClosed());
    assertFalse(StreamState.WRITE_CLOSED.isReadClosed());
    assertFalse(StreamState.OPEN.isReadClosed());
    assertTrue(StreamState.CLOSED.isReadClosed() && StreamState.CLOSED.isWriteClosed());
  }
}
