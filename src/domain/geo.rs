use serde::Serialize;

use super::{FieldCode, FieldError};

/// A point picked on the map, in degrees. Must lie inside China's bounding box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MapPoint {
    lat: f64,
    lng: f64,
}

/// Bounding box of the People's Republic of China (southernmost reef to Mohe, Pamirs to the
/// Heilongjiang–Ussuri confluence).
const LAT_RANGE: (f64, f64) = (3.8, 53.6);
const LNG_RANGE: (f64, f64) = (73.4, 135.1);
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl MapPoint {
    pub fn parse(lat: f64, lng: f64) -> Result<Self, FieldError> {
        if !lat.is_finite() || !lng.is_finite() {
            return Err(FieldError::new(
                FieldCode::LocationInvalid,
                "坐标不是有效数字",
            ));
        }
        let inside = (LAT_RANGE.0..=LAT_RANGE.1).contains(&lat)
            && (LNG_RANGE.0..=LNG_RANGE.1).contains(&lng);
        if !inside {
            return Err(FieldError::new(
                FieldCode::LocationOutsideChina,
                "地图选点不在中国境内，请重新选点",
            ));
        }
        Ok(Self { lat, lng })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lng(&self) -> f64 {
        self.lng
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &MapPoint) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let d_lat = lat2 - lat1;
        let d_lng = (other.lng - self.lng).to_radians();
        let a = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_in_china_are_accepted() {
        assert!(MapPoint::parse(25.2797, 112.5634).is_ok()); // Linwu
        assert!(MapPoint::parse(36.6512, 117.1201).is_ok()); // Jinan
    }

    #[test]
    fn points_outside_are_refused() {
        for (lat, lng) in [(51.5, -0.12), (0.0, 0.0), (40.7, 140.0), (60.0, 100.0)] {
            assert_eq!(
                MapPoint::parse(lat, lng).unwrap_err().code,
                "location_outside_china"
            );
        }
        assert_eq!(
            MapPoint::parse(f64::NAN, 112.0).unwrap_err().code,
            "location_invalid"
        );
    }

    #[test]
    fn distance_is_in_metres() {
        let a = MapPoint::parse(36.6512, 117.1201).unwrap();
        let b = MapPoint::parse(36.6602, 117.1201).unwrap(); // 0.009 degrees north
        let d = a.distance_m(&b);
        assert!((d - 1000.8).abs() < 5.0, "{d}");
        assert_eq!(a.distance_m(&a), 0.0);
    }
}
