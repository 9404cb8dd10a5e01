//! A jsonb result built straight from a `serde_json::Value`, with
//! PostgreSQL's own jsonb builder (`pushJsonbValue`), instead of printing the
//! value to text and parsing it again with `jsonb_in` (what `pgrx::JsonB`
//! does). The stored jsonb is the same: keys sorted and unique as jsonb
//! keeps them, numbers as numeric from the text serde_json prints for them.

use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::{direct_function_call_as_datum, IntoDatum};
use serde_json::Value;

/// A `jsonb` result of a grse function.
#[derive(Debug)]
pub struct Jsonb(pub Value);

impl IntoDatum for Jsonb {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        // SAFETY: builds a jsonb in the current memory context from values
        // that outlive the calls (the strings are copied into the result).
        Some(unsafe { pg_sys::Datum::from(to_jsonb(&self.0)) })
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

unsafe impl BoxRet for Jsonb {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        match self.into_datum() {
            // SAFETY: the datum is the function's result.
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}

unsafe impl SqlTranslatable for Jsonb {
    const TYPE_IDENT: &'static str = concat!(module_path!(), "::Jsonb");
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> = Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

/// The longest string a jsonb value holds (`JENTRY_OFFLENMASK`).
const MAX_STRING: usize = 0x0FFF_FFFF;

/// A scalar as a `JsonbValue`; `None` for an array or object.
unsafe fn scalar(v: &Value) -> Option<pg_sys::JsonbValue> {
    let mut out: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
    match v {
        Value::Null => out.type_ = pg_sys::jbvType::jbvNull,
        Value::Bool(b) => {
            out.type_ = pg_sys::jbvType::jbvBool;
            out.val.boolean = *b;
        }
        Value::Number(n) => {
            out.type_ = pg_sys::jbvType::jbvNumeric;
            let datum = match n.as_i64() {
                Some(i) => unsafe {
                    direct_function_call_as_datum(pg_sys::int8_numeric, &[Some(pg_sys::Datum::from(i))])
                },
                None => {
                    // (a number's text has no NUL byte)
                    let text = std::ffi::CString::new(n.to_string()).unwrap_or_default();
                    unsafe {
                        direct_function_call_as_datum(
                            pg_sys::numeric_in,
                            &[
                                Some(pg_sys::Datum::from(text.as_ptr())),
                                Some(pg_sys::Datum::from(pg_sys::InvalidOid)),
                                Some(pg_sys::Datum::from(-1i32)),
                            ],
                        )
                    }
                }
            }
            .unwrap_or_else(|| pgrx::error!("a number of a jsonb value converted to NULL"));
            out.val.numeric = datum.cast_mut_ptr();
        }
        Value::String(s) => string(&mut out, s),
        Value::Array(_) | Value::Object(_) => return None,
    }
    Some(out)
}

fn string(out: &mut pg_sys::JsonbValue, s: &str) {
    if s.len() > MAX_STRING {
        pgrx::ereport!(
            ERROR,
            pgrx::PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("a string of {} bytes does not fit in a jsonb value", s.len())
        );
    }
    out.type_ = pg_sys::jbvType::jbvString;
    out.val.string = pg_sys::JsonbValue__bindgen_ty_1__bindgen_ty_1 {
        len: s.len() as i32,
        val: s.as_ptr() as *mut std::ffi::c_char,
    };
}

/// Pushes `v` (an array or object) into the builder; the finished value
/// when it is the outermost one.
unsafe fn push_container(state: &mut *mut pg_sys::JsonbParseState, v: &Value) -> *mut pg_sys::JsonbValue {
    use pg_sys::JsonbIteratorToken as T;
    let push = |state: &mut *mut pg_sys::JsonbParseState, token, val: Option<&mut pg_sys::JsonbValue>| unsafe {
        pg_sys::pushJsonbValue(state, token, val.map_or(std::ptr::null_mut(), |v| v as *mut _))
    };
    match v {
        Value::Array(items) => {
            push(state, T::WJB_BEGIN_ARRAY, None);
            for item in items {
                match unsafe { scalar(item) } {
                    Some(mut s) => {
                        push(state, T::WJB_ELEM, Some(&mut s));
                    }
                    None => {
                        unsafe { push_container(state, item) };
                    }
                }
            }
            push(state, T::WJB_END_ARRAY, None)
        }
        Value::Object(map) => {
            push(state, T::WJB_BEGIN_OBJECT, None);
            for (key, item) in map {
                let mut k: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
                string(&mut k, key);
                push(state, T::WJB_KEY, Some(&mut k));
                match unsafe { scalar(item) } {
                    Some(mut s) => {
                        push(state, T::WJB_VALUE, Some(&mut s));
                    }
                    None => {
                        unsafe { push_container(state, item) };
                    }
                }
            }
            push(state, T::WJB_END_OBJECT, None)
        }
        _ => std::ptr::null_mut(),
    }
}

/// `v` as a jsonb datum (a pointer to the varlena, palloc'd).
unsafe fn to_jsonb(v: &Value) -> *mut pg_sys::Jsonb {
    unsafe {
        match scalar(v) {
            Some(mut s) => pg_sys::JsonbValueToJsonb(&mut s),
            None => {
                let mut state: *mut pg_sys::JsonbParseState = std::ptr::null_mut();
                let built = push_container(&mut state, v);
                pg_sys::JsonbValueToJsonb(built)
            }
        }
    }
}
