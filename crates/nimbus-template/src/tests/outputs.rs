//! `Outputs`: template order, descriptions, and API Gateway URLs pointed at the gateway.

use super::{SAM, diagnostics, error, load};

const APIS: &str = "Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.h
      Runtime: python3.12
      InlineCode: x
      Events:
        Rest:
          Type: Api
          Properties:
            Path: /hello
            Method: get
        Http:
          Type: HttpApi
          Properties:
            Path: /hi
            Method: get
        Staged:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /staged
            Method: get
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
Outputs:
  RestUrl:
    Description: the REST API
    Value: !Sub 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/'
  HttpUrl:
    Value: !Sub 'https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/hi'
  Endpoint:
    Value: !GetAtt ServerlessHttpApi.ApiEndpoint
  StagedUrl:
    Value: !Sub 'https://${MyApi}.execute-api.${AWS::Region}.amazonaws.com/v1/staged'
  Other:
    Value: https://example.com/Prod/hello
  ApiId:
    Value: !Ref ServerlessRestApi
";

#[test]
fn api_gateway_urls_are_rewritten_to_the_gateway() {
    let loaded = load(APIS);
    let outputs: Vec<(&str, &str)> = loaded
        .spec
        .outputs
        .iter()
        .map(|o| (o.key.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        &outputs[..5],
        [
            ("RestUrl", "http://127.0.0.1:3000/hello/"),
            ("HttpUrl", "http://127.0.0.1:3000/hi"),
            ("Endpoint", "http://127.0.0.1:3000"),
            ("StagedUrl", "http://127.0.0.1:3000/staged"),
            ("Other", "https://example.com/Prod/hello"),
        ]
    );
    let api_id = outputs[5].1;
    assert_eq!(api_id.len(), 10);
    assert_eq!(
        loaded.spec.outputs[0].description.as_deref(),
        Some("the REST API")
    );
    let d = diagnostics(&loaded);
    assert_eq!(d.len(), 5, "{d:?}");
    assert_eq!(
        d[1],
        "template.yaml:33:12: note: output 'RestUrl': API Gateway URL rewritten to http://127.0.0.1:3000/hello/: Nimbus serves every route on its gateway listener, without the stage prefix"
    );
    assert!(
        d[0].starts_with("template.yaml:27:11: note: REST API 'MyApi' (stage 'v1')"),
        "{}",
        d[0]
    );
}

#[test]
fn globals_api_stage_name_is_the_implicit_stage() {
    let text = APIS
        .replace(
            "Resources:\n",
            "Globals:\n  Api:\n    StageName: live\nResources:\n",
        )
        .replace("/Prod/hello/", "/live/hello/");
    let loaded = load(&text);
    assert_eq!(loaded.spec.outputs[0].value, "http://127.0.0.1:3000/hello/");
}

#[test]
fn output_values_must_be_strings() {
    let e = error(&format!(
        "{SAM}Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  Zones:\n    Value: !GetAZs ''\n"
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:7:12: error: Value must be a string"
    );
}
