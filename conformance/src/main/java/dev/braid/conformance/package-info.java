/** The conformance kit: numbered lifecycle rules as JUnit 5 tests, fixtures, and the reference model. */
package dev.braid.conformance;
