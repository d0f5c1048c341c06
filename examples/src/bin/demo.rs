//! Starts the example services on an ephemeral port of 127.0.0.1 and calls every method,
//! all on that one port: over gRPC on HTTP/2 and on HTTP/1.1, then over gRPC-Web and
//! Connect (in protobuf and in JSON), printing what each returns.

use examples::greeter::MyGreeter;
use examples::helloworld::HelloRequest;
use examples::helloworld::greeter_client::GreeterClient;
use examples::helloworld::greeter_server::GreeterServer;
use examples::route_guide::{RouteGuideService, point};
use examples::routeguide::route_guide_client::RouteGuideClient;
use examples::routeguide::route_guide_server::RouteGuideServer;
use examples::routeguide::{Rectangle, RouteNote};
use rsrpc::client::Protocol;
use rsrpc::codec::Format;
use rsrpc::transport::HttpVersion;
use rsrpc::{Channel, Request, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

type DemoResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> DemoResult {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .add_service(GreeterServer::new(MyGreeter))
            .add_service(RouteGuideServer::new(RouteGuideService::new()))
            // Stops when the demo is done, or earlier on Ctrl-C or SIGTERM.
            .serve_with_listener(listener, async {
                tokio::select! {
                    _ = stopped => {}
                    () = rsrpc::server::shutdown_signal() => {}
                }
            }),
    );
    println!("serving gRPC, gRPC-Web and Connect, over HTTP/2 and HTTP/1.1, on {addr}");
    let url = format!("http://{addr}");
    let ways = [
        (Protocol::Grpc, HttpVersion::Http2, Format::Proto),
        (Protocol::Grpc, HttpVersion::Http1, Format::Proto),
        (Protocol::GrpcWeb, HttpVersion::Http1, Format::Proto),
        (Protocol::Connect, HttpVersion::Http1, Format::Json),
        (Protocol::Connect, HttpVersion::Http2, Format::Proto),
    ];
    for (protocol, version, format) in ways {
        println!("--- {protocol:?} over {version:?}, in {}", format.name());
        let channel = Channel::builder(url.as_str())?
            .protocol(protocol)
            .http_version(version)
            .format(format)
            .connect()
            .await?;
        greet(channel.clone()).await?;
        tour(channel).await?;
    }
    let _ = stop.send(());
    server.await??;
    println!("server stopped");
    Ok(())
}

async fn greet(channel: Channel) -> DemoResult {
    let client = GreeterClient::new(channel);
    let mut request = Request::new(HelloRequest {
        name: "rsrpc".into(),
    });
    request.metadata_mut().insert("x-demo", "1")?;
    let reply = client.say_hello(request).await?;
    println!("SayHello(rsrpc) -> {:?}", reply.get_ref().message);
    let error = client.say_hello(HelloRequest::default()).await.unwrap_err();
    println!("SayHello(\"\") -> {:?}: {}", error.code(), error.message());
    Ok(())
}

async fn tour(channel: Channel) -> DemoResult {
    let client = RouteGuideClient::new(channel);

    let feature = client.get_feature(point(10_000_000, 10_000_000)).await?;
    println!("GetFeature -> {:?}", feature.get_ref().name);

    let rectangle = Rectangle {
        lo: Some(point(0, 0)),
        hi: Some(point(30_000_000, 30_000_000)),
    };
    let mut features = client.list_features(rectangle).await?.into_inner();
    while let Some(feature) = features.message().await? {
        println!("ListFeatures -> {:?}", feature.name);
    }

    let route = tokio_stream::iter((0..4).map(|step| point(step * 10_000_000, step * 10_000_000)));
    let summary = client.record_route(route).await?.into_inner();
    println!(
        "RecordRoute -> {} points, {} features, {} m",
        summary.point_count, summary.feature_count, summary.distance
    );

    let notes = ["first", "second", "third"].map(|message| RouteNote {
        location: Some(point(0, 0)),
        message: message.into(),
    });
    let mut replies = client
        .route_chat(tokio_stream::iter(notes))
        .await?
        .into_inner();
    while let Some(note) = replies.message().await? {
        println!("RouteChat -> {:?}", note.message);
    }
    Ok(())
}
