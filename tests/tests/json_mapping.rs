//! The canonical protobuf JSON mapping of generated messages (the plugin's `json` option):
//! well-known types in their JSON forms, `Any` with its type's fields, and round trips.

use prost::Message;
use rsrpc::codec::{Codec, JsonCodec, JsonForm};
use rsrpc_tests::corpus::wkt::Event;
use rsrpc_tests::e2e::EchoRequest;
use serde_json::{Value, json};

fn form<T>() -> JsonForm<T>
where
    JsonCodec: Codec<T>,
{
    <JsonCodec as Codec<T>>::json().expect("JsonCodec has a JSON form")
}

fn event() -> Event {
    let inner = Event {
        label: Some("inner".to_owned()),
        ..Event::default()
    };
    Event {
        at: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000_000,
        }),
        took: Some(prost_types::Duration {
            seconds: 1,
            nanos: 500_000_000,
        }),
        detail: Some(prost_types::Any {
            type_url: "type.googleapis.com/corpus.wkt.Event".to_owned(),
            value: inner.encode_to_vec(),
        }),
        mask: Some(prost_types::FieldMask {
            paths: vec!["user_name".to_owned(), "id".to_owned()],
        }),
        count: Some(1 << 40),
        ..Event::default()
    }
}

#[test]
fn well_known_types_take_their_json_forms() {
    let json: Value = serde_json::from_slice(&form::<Event>().encode(&event()).unwrap()).unwrap();
    assert_eq!(json["at"], "2023-11-14T22:13:20.005Z");
    assert_eq!(json["took"], "1.500s");
    assert_eq!(json["mask"], "userName,id");
    assert_eq!(
        json["count"], "1099511627776",
        "64-bit integers are strings"
    );
    assert_eq!(
        json["detail"],
        json!({"@type": "type.googleapis.com/corpus.wkt.Event", "label": "inner"}),
        "an Any is written with its type's fields"
    );
    assert!(json.get("value").is_none(), "unset fields are left out");
}

#[test]
fn json_round_trips_and_refuses_what_is_not_the_message() {
    let json = form::<Event>().encode(&event()).unwrap();
    assert_eq!(form::<Event>().decode(&json).unwrap(), event());

    let request: EchoRequest = form()
        .decode(br#"{"text":"hi","count":3,"payload":"AQI=","fail_code":5}"#)
        .unwrap();
    assert_eq!(request.text, "hi");
    assert_eq!(request.payload, [1, 2]);
    assert_eq!(request.fail_code, 5, "proto field names are accepted too");
    for bad in [
        &b"{\"nope\":1}"[..],
        b"{\"count\":\"x\"}",
        b"[]",
        b"{} trailing",
    ] {
        let status = form::<EchoRequest>().decode(bad).unwrap_err();
        assert_eq!(status.code(), rsrpc::Code::Internal, "{bad:?}");
    }
}
