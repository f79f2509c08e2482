//! A total map from every [`Regime`] to a value.
//!
//! Why not `BTreeMap<Regime, T>`: the domain's `Regime` derives `Hash`/`Eq` but not `Ord`, and a
//! regime model has a value for *every* regime anyway (a probability of 0 is still a probability).
//! A fixed array indexed by regime is total, allocation-free, and iterates — and serialises, as a
//! JSON object keyed by the regime's lowercase name — in the stable order of [`Regime::ALL`]
//! (`bull, bear, sideways, crisis, recovery`), so API responses are byte-for-byte reproducible.

use std::{
    collections::HashMap,
    fmt,
    ops::{Index, IndexMut},
};

use alphapulse_domain::{Regime, TextEnum};
use serde::{de::Deserializer, ser::SerializeMap, Deserialize, Serialize, Serializer};

/// Number of regimes (the length of [`Regime::ALL`]).
pub const REGIME_COUNT: usize = 5;

/// Every regime in declaration order, the order [`RegimeMap`] iterates in.
pub const REGIMES: [Regime; REGIME_COUNT] = [
    Regime::Bull,
    Regime::Bear,
    Regime::Sideways,
    Regime::Crisis,
    Regime::Recovery,
];

/// Position of `regime` in [`REGIMES`]. The match is exhaustive on purpose: a new domain regime
/// fails compilation here instead of silently aliasing another slot.
pub const fn regime_index(regime: Regime) -> usize {
    match regime {
        Regime::Bull => 0,
        Regime::Bear => 1,
        Regime::Sideways => 2,
        Regime::Crisis => 3,
        Regime::Recovery => 4,
    }
}

/// A value for every [`Regime`]; see the module docs for why this is not a `BTreeMap`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegimeMap<T> {
    values: [T; REGIME_COUNT],
}

impl<T> RegimeMap<T> {
    /// Builds the map by calling `f` once per regime, in [`REGIMES`] order.
    pub fn from_fn(mut f: impl FnMut(Regime) -> T) -> Self {
        Self {
            values: std::array::from_fn(|i| f(REGIMES[i])),
        }
    }

    /// The value for `regime`.
    pub fn get(&self, regime: Regime) -> &T {
        &self.values[regime_index(regime)]
    }

    /// The value for `regime`, mutably.
    pub fn get_mut(&mut self, regime: Regime) -> &mut T {
        &mut self.values[regime_index(regime)]
    }

    /// `(regime, value)` pairs in [`REGIMES`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Regime, &T)> + '_ {
        REGIMES.iter().copied().zip(self.values.iter())
    }

    /// Applies `f` to every value.
    pub fn map<U>(&self, mut f: impl FnMut(Regime, &T) -> U) -> RegimeMap<U> {
        RegimeMap::from_fn(|r| f(r, self.get(r)))
    }
}

impl RegimeMap<f64> {
    /// Sum of all values (1 for a probability distribution).
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }

    /// The regime with the largest value; ties go to the earlier regime in [`REGIMES`] order.
    pub fn argmax(&self) -> Regime {
        let mut best = 0;
        for i in 1..REGIME_COUNT {
            if self.values[i] > self.values[best] {
                best = i;
            }
        }
        REGIMES[best]
    }
}

impl<T> Index<Regime> for RegimeMap<T> {
    type Output = T;
    fn index(&self, regime: Regime) -> &T {
        self.get(regime)
    }
}

impl<T> IndexMut<Regime> for RegimeMap<T> {
    fn index_mut(&mut self, regime: Regime) -> &mut T {
        self.get_mut(regime)
    }
}

impl<T: fmt::Debug> fmt::Debug for RegimeMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(r, v)| (r.as_str(), v)))
            .finish()
    }
}

impl<T: Serialize> Serialize for RegimeMap<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(REGIME_COUNT))?;
        for (regime, value) in self.iter() {
            map.serialize_entry(regime.as_str(), value)?;
        }
        map.end()
    }
}

/// Accepts any subset of regimes; missing ones get `T::default()` (0 for a probability, `None`
/// for optional statistics).
impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for RegimeMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut entries: HashMap<Regime, T> = HashMap::deserialize(deserializer)?;
        Ok(Self::from_fn(|r| entries.remove(&r).unwrap_or_default()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_domain_regime_in_declaration_order() {
        assert_eq!(Regime::ALL, &REGIMES[..]);
        for (i, r) in REGIMES.iter().enumerate() {
            assert_eq!(regime_index(*r), i);
        }
    }

    #[test]
    fn serialises_as_an_object_in_stable_order_and_round_trips() {
        let mut m = RegimeMap::<f64>::default();
        m[Regime::Crisis] = 0.75;
        m[Regime::Bull] = 0.25;
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"bull":0.25,"bear":0.0,"sideways":0.0,"crisis":0.75,"recovery":0.0}"#
        );
        let back: RegimeMap<f64> = serde_json::from_str(r#"{"crisis":0.75,"bull":0.25}"#).unwrap();
        assert_eq!(back, m);
        assert_eq!(m.argmax(), Regime::Crisis);
        assert!((m.total() - 1.0).abs() < 1e-12);
    }
}
