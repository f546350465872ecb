package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The auto-tuner's rules, one at a time: it grows a window only when an update comes within four round trips of
 * the previous one and a round trip is known; doubling, up to the maximum; out of a budget that growth never
 * exceeds; and a stream's growth returns to the budget when it leaves. Then the same rules under many seeded random
 * sequences of streams, updates and departures.
 */
class WindowTunerTest {
  private static final long BASE = 256 * 1024;
  private static final long MS = 1_000_000;

  @Test
  void nothingGrowsWithoutARoundTripTime() {
    WindowTuner t = new WindowTuner(BASE, 16 * BASE, 100 * BASE);
    assertEquals(0, t.growth(BASE, 0, 1));
  }

  @Test
  void aWindowDoublesWhenUpdatesComeWithinFourRoundTrips() {
    WindowTuner t = new WindowTuner(BASE, 16 * BASE, 100 * BASE);
    t.rtt(10 * MS);
    assertEquals(BASE, t.growth(BASE, 0, 39 * MS), "39 ms after the previous update, RTT 10 ms: double");
    assertEquals(0, t.growth(BASE, 0, 40 * MS), "four round trips or more: the window is not the bottleneck");
    assertEquals(99 * BASE, t.budgetLeft());
  }

  @Test
  void aWindowNeverGrowsPastTheMaximum() {
    WindowTuner t = new WindowTuner(BASE, 3 * BASE, 100 * BASE);
    t.rtt(10 * MS);
    assertEquals(BASE, t.growth(BASE, 0, 1));
    assertEquals(BASE, t.growth(2 * BASE, 0, 1), "doubling would pass 3 x BASE: grows to the maximum");
    assertEquals(0, t.growth(3 * BASE, 0, 1));
  }

  @Test
  void aStreamThatCannotGetItsGrowthKeepsItsWindowAndAStreamThatLeavesGivesItBack() {
    WindowTuner t = new WindowTuner(BASE, 16 * BASE, BASE + BASE / 2);
    t.rtt(10 * MS);
    assertEquals(BASE, t.growth(BASE, 0, 1));
    assertEquals(0, t.growth(BASE, 0, 1), "half a window left in the budget: no growth");
    assertEquals(BASE / 2, t.budgetLeft());
    t.release(BASE);
    assertEquals(BASE + BASE / 2, t.budgetLeft());
    assertTrue(t.enabled());
    assertFalse(new WindowTuner(BASE, BASE, 100 * BASE).enabled(), "maximum = base window: tuning is off");
    assertFalse(new WindowTuner(BASE, 16 * BASE, 0).enabled(), "no budget: tuning is off");
  }

  @Test
  void randomSequencesNeverOverspendTheBudgetNorShrinkAWindow() {
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 200; round++) {
      long budget = BASE * random.nextInt(0, 40);
      long max = BASE * (1L << random.nextInt(0, 7));
      WindowTuner t = new WindowTuner(BASE, max, budget);
      t.rtt(1 + random.nextLong(100 * MS));
      List<long[]> streams = new ArrayList<>(); // {window, grown}
      for (int step = 0; step < 500; step++) {
        int action = random.nextInt(10);
        if (action == 0 || streams.isEmpty()) {
          streams.add(new long[] {BASE, 0});
        } else if (action == 1) {
          long[] gone = streams.remove(random.nextInt(streams.size()));
          t.release(gone[1]);
        } else {
          long[] s = streams.get(random.nextInt(streams.size()));
          long grow = t.growth(s[0], 0, random.nextLong(500 * MS));
          String where = " (seed " + seed + ", round " + round + ", step " + step
              + "; replay: mvn -pl transport-tcp test -Dtest=WindowTunerTest)";
          assertTrue(grow >= 0, "a window never shrinks" + where);
          s[0] += grow;
          s[1] += grow;
          assertTrue(s[0] <= Math.max(BASE, max), "window " + s[0] + " above the maximum " + max + where);
        }
        long grownNow = streams.stream().mapToLong(s -> s[1]).sum();
        assertTrue(grownNow <= budget, "growth " + grownNow + " above the budget " + budget + " (seed " + seed + ")");
        assertEquals(budget - grownNow, t.budgetLeft(), "the budget's books balance (seed " + seed + ")");
      }
    }
  }
}
