//! How YAML is read: scalars keep their text, anchors and aliases work.

use super::{SAM, function, load};

#[test]
fn scalars_keep_the_text_they_were_written_with() {
    let loaded = load(&format!(
        "{SAM}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.h
      Runtime: python3.12
      InlineCode: x
      MemorySize: '256'
      Environment:
        Variables:
          FLOAT: 1.0
          OCTAL_LOOKING: 0755
          BOOL: true
          QUOTED: '007'
          EXP: 1e3
          TILDE_IN_TEXT: a~b
          MULTILINE: >-
            one
            two
"
    ));
    let f = function(&loaded, "Fn");
    assert_eq!(f.memory_size, 256);
    let env: Vec<String> = f
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        env,
        [
            "BOOL=true",
            "EXP=1e3",
            "FLOAT=1.0",
            "MULTILINE=one two",
            "OCTAL_LOOKING=0755",
            "QUOTED=007",
            "TILDE_IN_TEXT=a~b",
        ]
    );
}

#[test]
fn anchors_and_aliases() {
    let loaded = load(&format!(
        "{SAM}Resources:
  A:
    Type: AWS::Serverless::Function
    Properties: &common
      Handler: a.h
      Runtime: python3.12
      InlineCode: x
      Environment:
        Variables:
          SHARED: !Ref AWS::Region
  B:
    Type: AWS::Serverless::Function
    Properties: *common
"
    ));
    assert_eq!(function(&loaded, "B").environment["SHARED"], "us-east-1");
    assert_eq!(function(&loaded, "B").function_name, "app-B");
}
