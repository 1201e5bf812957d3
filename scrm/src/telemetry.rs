//! Logs and traces: `tracing` to stdout (human or JSON), and OpenTelemetry spans that carry the
//! W3C trace context across every gRPC hop, exported over OTLP when an endpoint is configured.

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, TelemetryConfig};

/// The installed telemetry; flushes pending spans when shut down.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Installs logging and tracing for the process, exporting spans over OTLP when configured.
    pub fn install(config: &TelemetryConfig) -> anyhow::Result<Telemetry> {
        let mut provider = SdkTracerProvider::builder().with_resource(resource(config));
        if !config.otlp_endpoint.is_empty() {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(&config.otlp_endpoint)
                .build()
                .context("telemetry.otlp_endpoint: the OTLP exporter could not be built")?;
            provider = provider.with_batch_exporter(exporter);
        }
        install_provider(config, provider.build())
    }

    /// Installs logging and tracing that hand every finished span to `exporter` at once, for tests.
    pub fn install_with_exporter(
        config: &TelemetryConfig,
        exporter: impl SpanExporter + 'static,
    ) -> anyhow::Result<Telemetry> {
        let provider =
            SdkTracerProvider::builder().with_resource(resource(config)).with_simple_exporter(exporter).build();
        install_provider(config, provider)
    }

    /// Flushes pending spans and stops the exporter.
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("telemetry shutdown: {error}");
        }
    }
}

fn resource(config: &TelemetryConfig) -> Resource {
    Resource::builder().with_service_name(config.service_name.clone()).build()
}

fn install_provider(config: &TelemetryConfig, provider: SdkTracerProvider) -> anyhow::Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_filter))
        .with_context(|| format!("telemetry.log_filter: `{}` is not a valid filter", config.log_filter))?;
    let logs = match config.log_format {
        LogFormat::Human => tracing_subscriber::fmt::layer().boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer().json().flatten_event(true).boxed(),
    };
    let traces = tracing_opentelemetry::layer().with_tracer(provider.tracer("scrm"));
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces.with_filter(LevelFilter::INFO))
        .try_init()
        .context("a global tracing subscriber was already installed")?;
    Ok(Telemetry { provider })
}
