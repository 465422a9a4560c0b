/**
 * Real PostgreSQL, Kafka and Elasticsearch servers for a one-command run and for tests: no Docker, nothing to
 * install but the Maven build. {@link dev.streametl.embedded.EmbeddedServicesConfiguration} starts them for Camel Main
 * when the pipeline is configured to reach them on loopback addresses; {@link dev.streametl.embedded.EmbeddedServices}
 * starts them directly.
 */
package dev.streametl.embedded;
