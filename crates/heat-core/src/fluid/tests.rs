//! Unit tests of the fluid table: published check points, the two sources against each other,
//! monotonic behaviour, clamping, and a finite positive value for every input.

use proptest::prelude::*;

use super::*;

/// `value` lies within `rel` (relative) of `expected`.
fn close(value: f64, expected: f64, rel: f64) -> bool {
    ((value - expected) / expected).abs() <= rel
}

#[test]
fn names_parse_back_and_unknown_ones_list_the_valid_names() {
    for f in Fluid::ALL {
        assert_eq!(f.as_str().parse::<Fluid>(), Ok(f));
        assert_eq!(f.to_string(), f.as_str());
        let json = serde_json::to_value(f).expect("serialise");
        assert_eq!(json, f.as_str());
    }
    let e = "glycol".parse::<Fluid>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown fluid \"glycol\" (expected water, propylene_glycol or ethylene_glycol)"
    );
    assert_eq!(Fluid::default(), Fluid::PropyleneGlycol);
}

#[test]
fn water_matches_the_published_tables() {
    // Liquid water at 1 atm as tabulated in the CRC Handbook (density from Kell's table):
    // (°C, kg/m³, kJ/(kg·K)).
    for (t, density, cp) in [
        (20.0, 998.2071, 4.1818),
        (80.0, 971.8, 4.1963),
        (100.0, 958.4, 4.2159),
    ] {
        assert!(close(water_density(t), density, 1e-4), "ρ({t})");
        assert!(close(water_specific_heat(t) / 1000.0, cp, 5e-4), "cp({t})");
    }
    // ≈ 4.17 kJ/(L·K) at 20 °C (1.16 Wh/(L·K)).
    let v = volumetric_heat_capacity(Fluid::Water, 0.0, 20.0);
    assert!(close(v, 998.2071 * 4.1818 / 1000.0, 5e-4), "{v}");
}

#[test]
fn glycols_match_the_check_points_of_secondary_coolant_props() {
    // SecondaryCoolantProps' own test table (tests/test_propylene_glycol.py,
    // tests/test_ethlylene_glycol.py, 0.1 % tolerance there): an implementation of the same
    // Melinder fits written independently of this one.
    // (fluid, % by mass, °C, kg/m³, J/(kg·K)).
    let points = [
        (Fluid::PropyleneGlycol, 20.0, 20.0, 1014.8, 3976.8),
        (Fluid::PropyleneGlycol, 40.0, 5.0, 1040.1, 3658.0),
        (Fluid::PropyleneGlycol, 40.0, 40.0, 1020.1, 3770.8),
        (Fluid::EthyleneGlycol, 20.0, 20.0, 1024.1, 3896.2),
        (Fluid::EthyleneGlycol, 40.0, 5.0, 1058.5, 3455.9),
        (Fluid::EthyleneGlycol, 40.0, 40.0, 1041.4, 3597.8),
    ];
    for (fluid, x, t, density, cp) in points {
        let v = volumetric_heat_capacity(fluid, x, t);
        assert!(
            close(v, density * cp * 1e-6, 1e-3),
            "{fluid} {x} % {t} °C: {v}"
        );
    }
    // 30 % propylene glycol at 25 °C: ρ ≈ 1021 kg/m³ and cp ≈ 3.87 kJ/(kg·K).
    let density = PG_DENSITY.eval(30.0, 25.0);
    let cp = PG_SPECIFIC_HEAT.eval(30.0, 25.0) / 1000.0;
    assert!((1020.0..1030.0).contains(&density), "{density}");
    assert!((3.83..3.90).contains(&cp), "{cp}");
}

#[test]
fn glycol_at_no_concentration_is_water_from_the_other_source() {
    // Melinder's fits at 0 % against Kell and the CRC table: two independent sources meet
    // within 0.2 % over the whole range.
    for fluid in [Fluid::PropyleneGlycol, Fluid::EthyleneGlycol] {
        for t in 0..=100 {
            let t = f64::from(t);
            let glycol = volumetric_heat_capacity(fluid, 0.0, t);
            let water = volumetric_heat_capacity(Fluid::Water, 0.0, t);
            assert!(
                close(glycol, water, 2e-3),
                "{fluid} at {t} °C: {glycol} vs {water}"
            );
        }
    }
}

#[test]
fn more_glycol_holds_less_heat() {
    // From 10 % up, at every temperature. Below 10 % the propylene glycol fit rises slightly
    // (by at most 0.2 %) from 0 to about 6 % above 78 °C: a dilute solution is almost water,
    // and the fit does not resolve it better than that.
    for fluid in [Fluid::PropyleneGlycol, Fluid::EthyleneGlycol] {
        for t in 0..=100 {
            let t = f64::from(t);
            let mut previous = f64::INFINITY;
            for x in 10..=60 {
                let v = volumetric_heat_capacity(fluid, f64::from(x), t);
                assert!(v < previous, "{fluid} {x} % at {t} °C");
                previous = v;
            }
        }
    }
    // The default mixture holds about 10 % less heat than water.
    let pg45 = volumetric_heat_capacity(Fluid::PropyleneGlycol, 45.0, 50.0);
    let water = volumetric_heat_capacity(Fluid::Water, 0.0, 50.0);
    assert!((0.88..0.92).contains(&(pg45 / water)), "{pg45} vs {water}");
}

#[test]
fn temperatures_outside_the_tables_are_clamped_not_extrapolated() {
    for fluid in Fluid::ALL {
        let at = |t: f64| volumetric_heat_capacity(fluid, 45.0, t);
        assert_eq!(at(130.0), at(MAX_TEMPERATURE_C), "{fluid}");
        assert_eq!(at(f64::INFINITY), at(MAX_TEMPERATURE_C), "{fluid}");
        assert_eq!(at(-25.0), at(MIN_TEMPERATURE_C), "{fluid}");
        assert_eq!(at(f64::NEG_INFINITY), at(MIN_TEMPERATURE_C), "{fluid}");
        assert_eq!(at(f64::NAN), at(MIN_TEMPERATURE_C), "{fluid}");
    }
    let pg = |x: f64| volumetric_heat_capacity(Fluid::PropyleneGlycol, x, 50.0);
    assert_eq!(pg(80.0), pg(MAX_CONCENTRATION_PCT));
    assert_eq!(pg(-5.0), pg(MIN_CONCENTRATION_PCT));
    assert_eq!(pg(f64::NAN), pg(MIN_CONCENTRATION_PCT));
    // Water has no concentration.
    let water = |x: f64| volumetric_heat_capacity(Fluid::Water, x, 50.0);
    assert_eq!(water(45.0), water(0.0));
}

fn fluid() -> impl Strategy<Value = Fluid> {
    prop::sample::select(Fluid::ALL.to_vec())
}

proptest! {
    #[test]
    fn every_input_gives_a_finite_plausible_value(
        fluid in fluid(),
        x in prop_oneof![0.0..=60.0, any::<f64>()],
        t in prop_oneof![-40.0..=250.0, any::<f64>()],
    ) {
        let v = volumetric_heat_capacity(fluid, x, t);
        prop_assert!(v.is_finite(), "{v}");
        // EG 60 % at 0 °C is the lowest (3.23), water at 0 °C the highest (4.21).
        prop_assert!((3.2..4.25).contains(&v), "{fluid} {x} % {t} °C: {v}");
    }
}
