//! An implementation of `routeguide.RouteGuide` over a small in-memory feature list.

use std::sync::Arc;

use rsrpc::{BoxStream, Request, Response, Status, Streaming};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::routeguide::route_guide_server::RouteGuide;
use crate::routeguide::{Feature, Point, Rectangle, RouteNote, RouteSummary};

/// Serves route guide calls from a fixed list of features. `ListFeatures` refuses a
/// rectangle without both corners with `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct RouteGuideService {
    features: Arc<Vec<Feature>>,
}

impl RouteGuideService {
    /// A service knowing a few named places on a grid.
    pub fn new() -> RouteGuideService {
        let names = [
            "Pier",
            "Old Mill",
            "Lighthouse",
            "Market",
            "Bridge",
            "Tower",
        ];
        let features = names
            .iter()
            .enumerate()
            .map(|(index, name)| Feature {
                name: (*name).to_owned(),
                location: Some(point(index as i32 * 10_000_000, index as i32 * 10_000_000)),
            })
            .collect();
        RouteGuideService {
            features: Arc::new(features),
        }
    }

    fn feature_at(&self, location: &Point) -> Option<&Feature> {
        self.features
            .iter()
            .find(|feature| feature.location.as_ref() == Some(location))
    }
}

impl Default for RouteGuideService {
    fn default() -> Self {
        RouteGuideService::new()
    }
}

/// A point from E7 coordinates.
pub fn point(latitude: i32, longitude: i32) -> Point {
    Point {
        latitude,
        longitude,
    }
}

fn in_rectangle(point: &Point, rectangle: &Rectangle) -> bool {
    let (Some(lo), Some(hi)) = (&rectangle.lo, &rectangle.hi) else {
        return false;
    };
    let (left, right) = (
        lo.longitude.min(hi.longitude),
        lo.longitude.max(hi.longitude),
    );
    let (bottom, top) = (lo.latitude.min(hi.latitude), lo.latitude.max(hi.latitude));
    (left..=right).contains(&point.longitude) && (bottom..=top).contains(&point.latitude)
}

/// Great-circle distance in metres between two E7 points (haversine formula).
fn distance(from: &Point, to: &Point) -> i32 {
    const COORD_FACTOR: f64 = 1e7;
    const EARTH_RADIUS_METRES: f64 = 6_371_000.0;
    let lat1 = (f64::from(from.latitude) / COORD_FACTOR).to_radians();
    let lat2 = (f64::from(to.latitude) / COORD_FACTOR).to_radians();
    let delta_lat = lat2 - lat1;
    let delta_lon = (f64::from(to.longitude - from.longitude) / COORD_FACTOR).to_radians();
    let a =
        (delta_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (delta_lon / 2.0).sin().powi(2);
    let c = 2.0 * a.sqrt().atan2((1.0 - a).sqrt());
    (EARTH_RADIUS_METRES * c) as i32
}

impl RouteGuide for RouteGuideService {
    async fn get_feature(&self, request: Request<Point>) -> Result<Response<Feature>, Status> {
        let location = request.into_inner();
        let feature = self.feature_at(&location).cloned().unwrap_or(Feature {
            name: String::new(),
            location: Some(location),
        });
        Ok(Response::new(feature))
    }

    type ListFeaturesStream = BoxStream<Feature>;

    async fn list_features(
        &self,
        request: Request<Rectangle>,
    ) -> Result<Response<Self::ListFeaturesStream>, Status> {
        let rectangle = request.into_inner();
        if rectangle.lo.is_none() || rectangle.hi.is_none() {
            return Err(Status::invalid_argument("a rectangle needs both corners"));
        }
        let found: Vec<_> = self
            .features
            .iter()
            .filter(|feature| {
                feature
                    .location
                    .as_ref()
                    .is_some_and(|at| in_rectangle(at, &rectangle))
            })
            .cloned()
            .map(Ok)
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(found))))
    }

    async fn record_route(
        &self,
        request: Request<Streaming<Point>>,
    ) -> Result<Response<RouteSummary>, Status> {
        let started = tokio::time::Instant::now();
        let mut points = request.into_inner();
        let mut summary = RouteSummary::default();
        let mut previous: Option<Point> = None;
        while let Some(point) = points.message().await? {
            summary.point_count += 1;
            if self.feature_at(&point).is_some() {
                summary.feature_count += 1;
            }
            if let Some(previous) = &previous {
                summary.distance += distance(previous, &point);
            }
            previous = Some(point);
        }
        summary.elapsed_time = started.elapsed().as_secs() as i32;
        Ok(Response::new(summary))
    }

    type RouteChatStream = ReceiverStream<Result<RouteNote, Status>>;

    async fn route_chat(
        &self,
        request: Request<Streaming<RouteNote>>,
    ) -> Result<Response<Self::RouteChatStream>, Status> {
        let mut notes = request.into_inner();
        let (sender, receiver) = mpsc::channel(16);
        // Answer each note as it arrives with every earlier note left at the same place.
        tokio::spawn(async move {
            let mut history: Vec<RouteNote> = Vec::new();
            while let Some(note) = notes.message().await.transpose() {
                let note = match note {
                    Ok(note) => note,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                for earlier in history
                    .iter()
                    .filter(|earlier| earlier.location == note.location)
                {
                    if sender.send(Ok(earlier.clone())).await.is_err() {
                        return;
                    }
                }
                history.push(note);
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
