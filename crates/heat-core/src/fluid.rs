//! The collector-loop fluid of the heat meter and its volumetric heat capacity ρ·cp, from
//! published property correlations as a function of glycol concentration and temperature.
//!
//! # Sources
//!
//! Propylene glycol–water and ethylene glycol–water: Å. Melinder, *Properties of Secondary
//! Working Fluids (Secondary Refrigerants or Coolants, Heat Transfer Fluids) for Indirect
//! Systems*, 2nd ed., International Institute of Refrigeration (IIR/IIF), Paris, 2010. Melinder
//! fits each property of each mixture with one polynomial in the mass fraction `x` (% by weight)
//! and the temperature `t` (°C) about a mean point (`x_m`, `t_m`):
//!
//! ```text
//! f(x, t) = Σ C_ij · (x − x_m)^i · (t − t_m)^j,   i ≤ 5, j ≤ 3, i + j ≤ 5   (18 terms)
//! ```
//!
//! The book itself was not at hand; the coefficients `C_ij` for density (kg/m³) and specific
//! heat (J/(kg·K)) are as transcribed in two independent implementations of it: the IBPSA
//! Modelica library (github.com/ibpsa/modelica-ibpsa, commit `bad7edb`,
//! `IBPSA/Media/Antifreeze/Functions/PropyleneGlycolWater.mo` and `EthyleneGlycolWater.mo`,
//! record `proCoe`, by M. Cimmino, 2018) and NREL's SecondaryCoolantProps, Python package `scp`
//! (github.com/NREL/SecondaryCoolantProps, commit `64cd106`, `scp/propylene_glycol.py`,
//! `scp/ethylene_glycol.py`). The two agree on every coefficient but one: ethylene glycol
//! density `C_41` is −7.221e−8 in the Modelica record and −7.211e−8 in SecondaryCoolantProps
//! and in IBPSA's own plotting script
//! (`IBPSA/Resources/Images/Media/Antifreeze/EthyleneGlycol.py`); this module takes the latter,
//! two transcriptions against one, and the difference is below 0.01 kg/m³ over the whole range.
//! Both libraries accept 0–60 % by mass and up to 100 °C, from the mixture's freezing point.
//!
//! Water: density from G. S. Kell, "Density, thermal expansivity, and compressibility of liquid
//! water from 0° to 150 °C: correlations and tables for atmospheric pressure and saturation
//! reviewed and expressed on 1968 temperature scale", *J. Chem. Eng. Data* 20 (1975) 97–105,
//! Equation 16 (0–150 °C, 1 atm; also in the CRC Handbook of Chemistry and Physics, 61st ed.,
//! p. F-6). Specific heat from the 0–100 °C least-squares fit to the CRC Handbook's table
//! (p. D-174) used by SecondaryCoolantProps (`scp/water.py`).
//!
//! # Validity and clamping
//!
//! The temperature is clamped to 0–100 °C before any polynomial is evaluated. 100 °C is the top
//! of the glycol fits and of the water specific-heat fit; a solar loop does reach 120 °C and
//! more in stagnation or collector cooling, but a polynomial taken past its data can turn
//! anywhere, and there the meter's last percent does not matter: from 80 to 100 °C ρ·cp changes
//! by less than 0.06 % per kelvin for every fluid and concentration, so the value at 100 °C is
//! close. 0 °C lies above the freezing point of every mixture in range (the fits start there),
//! and a loop collecting heat into a tank is not colder than that. The concentration is clamped
//! to 0–60 % (validated configuration is always inside). NaN reads as the lower bound, so the
//! result is always finite and positive (between 3.2 and 4.25 kJ/(L·K), checked by a property
//! test).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[cfg(test)]
mod tests;

/// The heat-transfer fluid in the collector loop.
///
/// Deserialised through [`FromStr`], so that an unknown name is an error listing the valid
/// ones (serde's derived message would not, in every format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Fluid {
    /// Plain water (no frost protection; the concentration is ignored).
    Water,
    /// Propylene glycol (1,2-propanediol) and water: the usual solar fluid, and RESOL's
    /// default.
    #[default]
    PropyleneGlycol,
    /// Ethylene glycol and water.
    EthyleneGlycol,
}

impl Fluid {
    /// Every fluid.
    pub const ALL: [Fluid; 3] = [Fluid::Water, Fluid::PropyleneGlycol, Fluid::EthyleneGlycol];

    /// The name in the configuration and the state JSON, e.g. `"propylene_glycol"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fluid::Water => "water",
            Fluid::PropyleneGlycol => "propylene_glycol",
            Fluid::EthyleneGlycol => "ethylene_glycol",
        }
    }
}

impl fmt::Display for Fluid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fluid name that is not one of [`Fluid::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown fluid {0:?} (expected water, propylene_glycol or ethylene_glycol)")]
pub struct UnknownFluid(pub String);

impl FromStr for Fluid {
    type Err = UnknownFluid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fluid::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFluid(s.to_owned()))
    }
}

impl TryFrom<String> for Fluid {
    type Error = UnknownFluid;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Lowest glycol concentration of the correlations (% by mass).
pub const MIN_CONCENTRATION_PCT: f64 = 0.0;
/// Highest glycol concentration of the correlations (% by mass).
pub const MAX_CONCENTRATION_PCT: f64 = 60.0;
/// The temperature is clamped up to this before evaluating (°C): see the module docs.
pub const MIN_TEMPERATURE_C: f64 = 0.0;
/// The temperature is clamped down to this before evaluating (°C): see the module docs.
pub const MAX_TEMPERATURE_C: f64 = 100.0;

/// Volumetric heat capacity ρ·cp of `fluid` at `concentration_pct` glycol (% by mass, ignored
/// for water) and `temperature_c` (°C), in kJ/(L·K).
///
/// Both inputs are clamped to the correlations' range (see the module docs), so the result is
/// finite and positive for any input, NaN included.
pub fn volumetric_heat_capacity(fluid: Fluid, concentration_pct: f64, temperature_c: f64) -> f64 {
    let t = bounded(temperature_c, MIN_TEMPERATURE_C, MAX_TEMPERATURE_C);
    let x = bounded(
        concentration_pct,
        MIN_CONCENTRATION_PCT,
        MAX_CONCENTRATION_PCT,
    );
    let (density, specific_heat) = match fluid {
        Fluid::Water => (water_density(t), water_specific_heat(t)),
        Fluid::PropyleneGlycol => (PG_DENSITY.eval(x, t), PG_SPECIFIC_HEAT.eval(x, t)),
        Fluid::EthyleneGlycol => (EG_DENSITY.eval(x, t), EG_SPECIFIC_HEAT.eval(x, t)),
    };
    // kg/m³ · J/(kg·K) = J/(m³·K); 1 m³ = 1000 L and 1 kJ = 1000 J.
    density * specific_heat * 1e-6
}

/// `value` clamped to `min..=max`, NaN to `min`: never NaN, so never a NaN energy counter.
fn bounded(value: f64, min: f64, max: f64) -> f64 {
    if value.is_nan() {
        min
    } else {
        value.clamp(min, max)
    }
}

/// The exponents (i of the concentration, j of the temperature) of Melinder's 18 terms, in the
/// order the coefficient tables below list them.
const TERMS: [(i32, i32); 18] = [
    (0, 0),
    (0, 1),
    (0, 2),
    (0, 3),
    (1, 0),
    (1, 1),
    (1, 2),
    (1, 3),
    (2, 0),
    (2, 1),
    (2, 2),
    (2, 3),
    (3, 0),
    (3, 1),
    (3, 2),
    (4, 0),
    (4, 1),
    (5, 0),
];

/// One property of one mixture: Melinder's polynomial about its mean point.
struct Melinder {
    /// Mean concentration `x_m` (% by mass).
    x_mean: f64,
    /// Mean temperature `t_m` (°C).
    t_mean: f64,
    /// `C_ij` in the order of [`TERMS`].
    c: [f64; 18],
}

impl Melinder {
    fn eval(&self, x: f64, t: f64) -> f64 {
        let dx = x - self.x_mean;
        let dt = t - self.t_mean;
        TERMS
            .iter()
            .zip(self.c)
            .map(|(&(i, j), c)| c * dx.powi(i) * dt.powi(j))
            .sum()
    }
}

// Mean points, as published with the coefficients.
const PG_X_MEAN: f64 = 30.7031;
const PG_T_MEAN: f64 = 32.7083;
const EG_X_MEAN: f64 = 30.8462;
const EG_T_MEAN: f64 = 31.728;

/// Propylene glycol–water density (kg/m³).
const PG_DENSITY: Melinder = Melinder {
    x_mean: PG_X_MEAN,
    t_mean: PG_T_MEAN,
    c: [
        1.018e3, -5.406e-1, -2.666e-3, 1.347e-5, //
        7.604e-1, -9.450e-3, 5.541e-5, -1.343e-7, //
        -2.498e-3, 2.700e-5, -4.018e-7, 3.376e-9, //
        -1.550e-4, 2.829e-6, -7.175e-9, //
        -1.131e-6, -2.221e-8, //
        2.342e-8,
    ],
};

/// Propylene glycol–water specific heat (J/(kg·K)).
const PG_SPECIFIC_HEAT: Melinder = Melinder {
    x_mean: PG_X_MEAN,
    t_mean: PG_T_MEAN,
    c: [
        3.882e3, 2.699e0, -1.659e-3, -1.032e-5, //
        -1.304e1, 5.070e-2, -4.752e-5, 1.522e-6, //
        -1.598e-1, 9.534e-5, 1.167e-5, -4.870e-8, //
        3.539e-4, 3.102e-5, -2.950e-7, //
        5.000e-5, -7.135e-7, //
        -4.959e-7,
    ],
};

/// Ethylene glycol–water density (kg/m³); `C_41` as discussed in the module docs.
const EG_DENSITY: Melinder = Melinder {
    x_mean: EG_X_MEAN,
    t_mean: EG_T_MEAN,
    c: [
        1.034e3, -4.781e-1, -2.692e-3, 4.725e-6, //
        1.311e0, -6.876e-3, 4.805e-5, 1.690e-8, //
        7.490e-5, 7.855e-5, -3.995e-7, 4.982e-9, //
        -1.062e-4, 1.229e-6, -1.153e-8, //
        -9.623e-7, -7.211e-8, //
        4.891e-8,
    ],
};

/// Ethylene glycol–water specific heat (J/(kg·K)).
const EG_SPECIFIC_HEAT: Melinder = Melinder {
    x_mean: EG_X_MEAN,
    t_mean: EG_T_MEAN,
    c: [
        3.737e3, 2.930e0, -4.675e-3, -1.389e-5, //
        -1.799e1, 1.046e-1, -4.147e-4, 1.847e-7, //
        -9.933e-2, 3.516e-4, 5.109e-6, -7.138e-8, //
        2.610e-3, -1.189e-6, -1.643e-7, //
        1.537e-5, -4.272e-7, //
        -1.618e-6,
    ],
};

/// Water density at 1 atm (kg/m³), Kell (1975) Equation 16.
fn water_density(t: f64) -> f64 {
    let numerator = [
        999.839_52,
        16.945_176,
        -7.987_040_1e-3,
        -46.170_461e-6,
        105.563_02e-9,
        -280.542_53e-12,
    ]
    .iter()
    .rev()
    .fold(0.0, |acc, a| acc * t + a);
    numerator / (1.0 + 16.879_850e-3 * t)
}

/// Water specific heat at 1 atm (J/(kg·K)), the CRC-table fit of SecondaryCoolantProps.
fn water_specific_heat(t: f64) -> f64 {
    let kj = [
        4.215_34,
        -2.878_19e-3,
        7.472_9e-5,
        -7.796_24e-7,
        3.220_424e-9,
    ]
    .iter()
    .rev()
    .fold(0.0, |acc, a| acc * t + a);
    kj * 1000.0
}
